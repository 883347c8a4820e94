// Telemetry (book 8.6 exercise 4, metrics of 8.5.2): single Paxos on an instrumented communicator;
// the collected events must account for the algorithm's traffic and its decision.
import t from 'tap';
import assert from 'node:assert/strict';
import { simulate, type Communicator } from 'dsmpi';
import { defaultPaxosOptions, paxosLayout, singlePaxosMain, Tag as PaxosTag } from '../../algorithms/paxos/single-paxos.ts';
import { collectTelemetry, formatSummary, instrument, summarize, type TelemetrySummary } from '../../algorithms/telemetry/telemetry.ts';
import { forEachSeed } from '../helpers/run-ranks.ts';

const tagNames = Object.fromEntries(Object.entries(PaxosTag).map(([name, tag]) => [tag, name]));

async function main(world: Communicator): Promise<{ summary?: TelemetrySummary; decided: unknown; table?: string }> {
  const channel = await world.dup();
  await world.barrier();
  const tel = instrument(world, channel, world.size - 1, world.clock.now(), (dir, tag, data) =>
    dir !== 'send'
      ? undefined
      : tag === PaxosTag.Prepare
        ? {
            phase: `prepare ${JSON.stringify((data as { ballot: unknown }).ballot)}`,
          }
        : tag === PaxosTag.Accept
          ? { phase: 'accept' }
          : tag === PaxosTag.Decide
            ? { decision: true }
            : undefined,
  );
  const o = await singlePaxosMain(tel.comm, (r) => 40 + r, defaultPaxosOptions);
  await tel.end();
  if (world.rank !== world.size - 1) return { decided: o.decided };
  const summary = summarize(await collectTelemetry(channel), tagNames, 'prepare');
  return { summary, decided: o.decided, table: formatSummary(summary) };
}

t.test('n = 5 without faults: one round, about five steps (Propose, Prepare, Promise, Accept, Accepted)', async (t) => {
  const r = await simulate({ n: 5, seed: 1 }, main);
  const s = r.results[4]!.summary!;
  t.equal(s.rounds, 1);
  t.ok(
    s.steps! >= 5 && s.steps! <= 6,
    `steps ${s.steps}: at least the 5 of the message chain, +1 when a later message reached the announcer first`,
  );
  t.equal(s.decided, 5, 'every rank decided');
  t.equal(s.perTag.Prepare.messages, 1, 'one Prepare to the one acceptor');
  t.equal(
    s.messages,
    Object.values(s.perTag).reduce((a, x) => a + x.messages, 0),
  );
  t.ok(s.decideMs! > 0 && s.decideMs! <= s.allDecidedMs!);
  t.match(r.results[4]!.table!.split('\n').at(-1), /messages=\d+ bytes=\d+ rounds=1 retries=0 nacks=0 steps=\d+ decide_ms=/);
  t.ok(s.phaseMs.prepare > 0 && s.phaseMs.accept > 0, 'latency per phase');
});

t.test('n = 10 under delays and reordering (two competing proposers), agreement kept, every live rank reports', async (t) => {
  await forEachSeed(4, {}, async (seed) => {
    const r = await simulate(
      {
        n: 10,
        seed,
        faults: {
          delay: { minMs: 0.1, maxMs: 5 },
          reorder: { probability: 0.3, maxMs: 5 },
        },
        timeLimitMs: 60_000,
      },
      main,
    );
    const s = r.results[9]!.summary!;
    assert.equal(new Set(r.results.map((x) => x!.decided)).size, 1);
    assert.equal(s.decided, 10);
    assert.ok(s.rounds >= 1, `rounds ${s.rounds}`);
    assert.ok(s.perTag.Prepare.messages >= s.rounds * paxosLayout(10).acceptors.length - 2, 'a Prepare per acceptor per round');
    assert.ok(s.steps! >= 5, `steps ${s.steps}`);
  });
  t.pass();
});
