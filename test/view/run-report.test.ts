import t from 'tap';
import { simulate, type TraceEvent } from 'dsmpi';
import { computeReport, formatReport, throughputSvg } from '../../launcher/view/run-report.ts';
import { dsrun } from '../helpers/dsrun.ts';

t.test('marked operations: counts, latency percentiles and messages per operation', async (t) => {
  const events: TraceEvent[] = [];
  // Ten "decide" operations on rank 0 taking 1..10 ms; 20 point-to-point messages in all.
  for (let i = 1; i <= 10; i++) {
    events.push({ t: i * 20, ev: 'op', rank: 0, name: 'decide', phase: 'begin', op: i });
    events.push({ t: i * 20, ev: 'send', rank: 0, to: 1, msg: 2 * i - 1, kind: 0, ctx: 0, tag: 4, bytes: 10 });
    events.push({ t: i * 20, ev: 'send', rank: 0, to: 1, msg: 2 * i, kind: 0, ctx: 0, tag: 4, bytes: 10 });
    events.push({ t: i * 20 + i, ev: 'op', rank: 0, name: 'decide', phase: 'end', op: i });
  }
  events.push({ t: 300, ev: 'op', rank: 1, name: 'decide', phase: 'begin', op: 1 }); // never ends
  const report = computeReport(events);
  t.same(report.operations, [{ name: 'decide', begun: 11, completed: 10, p50: 5, p90: 9, p99: 10, max: 10, messagesPerOperation: 2 }]);
  const text = formatReport(report);
  t.match(text, /summary: 20 messages, 200 bytes sent/);
  t.match(text, /decide\s+11\s+10\s+5\.00\s+9\.00\s+10\.00\s+10\.00\s+2\.00/);
});

t.test('throughput plot: deliveries over time, faults shaded', async (t) => {
  const svg = throughputSvg([
    { t: 0, ev: 'deliver', rank: 1, from: 0, msg: 1 },
    { t: 5, ev: 'partition', from: [0], to: [1] },
    { t: 6, ev: 'crash', rank: 2 },
    { t: 8, ev: 'heal', from: [0], to: [1] },
    { t: 10, ev: 'deliver', rank: 1, from: 0, msg: 2 },
  ]);
  t.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  t.match(svg, /<path class="delivered" d="M[\d.]+,[\d.]+ L/);
  t.match(svg, /<rect [^>]*fill="#f08c00"[^>]*><title>partition<\/title>/);
  t.match(svg, /<line [^>]*stroke="#cc0000"[^>]*><title>rank 2 crashed<\/title>/);
});

t.test('beginOperation marks operations in simulated traces, and replays exactly', async (t) => {
  const main = async (c: import('dsmpi').Communicator): Promise<void> => {
    for (let i = 0; i < 3; i++) {
      const op = c.beginOperation('exchange');
      await c.sendrecv(i, (c.rank + 1) % c.size, 1, (c.rank + c.size - 1) % c.size, 1);
      op.end();
    }
  };
  const a = await simulate({ n: 3, seed: 11, faults: { delay: { minMs: 1, maxMs: 5 } } }, main);
  const b = await simulate({ n: 3, seed: 11, faults: { delay: { minMs: 1, maxMs: 5 } } }, main);
  t.equal(a.jsonl(), b.jsonl(), 'same seed, same trace');
  const ops = a.trace.filter((e) => e.ev === 'op');
  t.equal(ops.length, 18, '3 ranks x 3 operations x begin and end');
  const [stats] = computeReport(a.trace).operations;
  t.equal(stats.completed, 9);
  t.ok(stats.p50 >= 1 && stats.max <= 15, `latencies follow the 1..5 ms delays (p50 ${stats.p50}, max ${stats.max})`);
  t.equal(stats.messagesPerOperation, 1, 'one message per exchange per rank');
});

t.test('dsrun --summary reports marked operations of a real run', async (t) => {
  const r = await dsrun(['-n', '2', '--summary', 'test/fixtures/operations.ts']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /\n\s+roundtrip\s+20\s+20\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+1\.00\n/);
});
