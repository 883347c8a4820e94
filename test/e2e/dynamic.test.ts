// Dynamic processes and the autoscaler under dsrun (docs/dynamic-processes.md).
import t from 'tap';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTrace } from '../../runtime/index.ts';
import { dsrun } from '../helpers/dsrun.ts';

t.test('spawn, spawn more, parent links, retire: sends to a retired rank reject', async (t) => {
  const r = await dsrun(['-n', '1', 'test/fixtures/spawn-family.ts'], {
    limitMs: 20_000,
  });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, '[rank 1] child 0 of 2 got 1\n');
  t.match(r.stdout, '[rank 2] child 1 of 2 got 2\n');
  t.match(r.stdout, '[rank 3] child 0 of 1 got 3\n');
  t.match(r.stdout, '[rank 0] answers 2,4,6 from world ranks 1,2,3\n');
  t.match(r.stdout, '[rank 0] send to a retired child: DS_ERR_RETIRED\n');
});

t.test('--trace and --summary include the spawned ranks: every send delivered after it, the children counted', async (t) => {
  const trace = join(tmpdir(), `dsmpi-spawn-trace-${process.pid}.jsonl`);
  t.teardown(() => rmSync(trace, { force: true }));
  const r = await dsrun(['-n', '1', '--quiet', '--trace', trace, '--summary', 'test/fixtures/spawn-family.ts'], { limitMs: 20_000 });
  t.equal(r.code, 0, r.stderr);
  const events = parseTrace(readFileSync(trace, 'utf8'));
  for (const rank of [1, 2, 3]) {
    t.ok(
      events.some((e) => e.ev === 'send' && e.rank === rank && e.to === 0),
      `spawned rank ${rank} sends its answer in the trace`,
    );
    t.ok(
      events.some((e) => e.ev === 'deliver' && e.rank === rank && e.from === 0),
      `and receives its number`,
    );
  }
  const sentAt = new Map(events.filter((e) => e.ev === 'send').map((e) => [`${e.rank}:${e.msg}`, events.indexOf(e)]));
  const deliveries = events.filter((e) => e.ev === 'deliver');
  t.equal(deliveries.length, 6, 'six messages delivered');
  t.ok(
    deliveries.every((e) => (sentAt.get(`${e.from}:${e.msg}`) ?? Infinity) < events.indexOf(e)),
    'each after its send',
  );
  t.match(r.stderr, /summary: 6 messages, 30 bytes sent; 6 delivered/);
  for (const rank of [1, 2, 3]) t.match(r.stderr, new RegExp(`^\\s+${rank}\\s+1\\s+5\\s+1\\s+5$`, 'm'));
});

t.test('autoscaler: synthetic load up then down; grows, shrinks, every task once', async (t) => {
  const load = '90,90,90,90,90,90,50,10,10,10,10,10,10,10,10';
  const r = await dsrun(
    ['-n', '1', '--quiet', 'examples/autoscaler.ts', '--load', load, '--tasks', '40', '--sample-ms', '100', '--task-ms', '40'],
    {
      limitMs: 30_000,
    },
  );
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('load='));
  t.equal(lines.length >= 15, true, 'a decision per sample');
  for (const l of lines) t.match(l, /^load=\d+\.\d active=\d+ decision=(\+\d+|-\d+|hold)$/);
  t.ok(
    lines.some((l) => l.endsWith('decision=+1')),
    'grew',
  );
  t.ok(
    lines.some((l) => l.endsWith('decision=-1')),
    'shrank',
  );
  const summary = /tasks done=(\d+) duplicates=(\d+) spawned=([\d,]+) retired=([\d,]+) peak=(\d+)/.exec(r.stdout);
  t.ok(summary, r.stdout);
  const [, done, dups, spawned, retired, peak] = summary!;
  t.equal(Number(done), 40);
  t.equal(Number(dups), 0);
  const s = spawned.split(',');
  t.equal(new Set(s).size, s.length, 'each worker started once (none restarted)');
  t.same(retired.split(',').sort(), [...s].sort(), 'every worker retired');
  t.ok(Number(peak) >= 3);
});
