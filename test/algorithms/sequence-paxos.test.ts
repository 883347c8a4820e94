// Sequence Paxos (book 4.1, figures 4.3-4.5; exercise 1): the prefix invariant at every moment, no
// lost decided entry, and a complete log on every live rank, under loss, delay, reordering,
// partitions, crashes of a minority (the leader included) and crash-recovery.
import t from 'tap';
import { simulate, type FaultOptions } from 'dsmpi';
import { checkCompleteLog, checkPrefixInvariant, type LogObservation } from '../../algorithms/checkers/consensus-invariants.ts';
import {
  defaultSequenceOptions,
  sequencePaxosMain,
  startSequence,
  stepSequence,
  Tag,
  type Value,
} from '../../algorithms/paxos/sequence-paxos.ts';
import type { Input } from '../../algorithms/common/serve.ts';
import { forEachSeed, runRanks } from '../helpers/run-ranks.ts';

const msg = (source: number, tag: number, data: unknown, nowMs = 1): Input => ({ type: 'message', source, tag, data, nowMs, random: 0.5 });
const valuesOf =
  (perClient: number) =>
  (rank: number): Value[] =>
    Array.from({ length: perClient }, (_, i) => `c${rank}-${i}`);

t.test('acceptor (figure 4.5): Promise carries na and the suffix past the leader decided length; AcceptSync and Decide', async (t) => {
  const s = startSequence(2, 3, 0, [valuesOf(10)(2), [], []]);
  Object.assign(s, { promised: [1, 0], na: [1, 0], va: ['a', 'b', 'c'], ld: 1 });
  const [, p] = stepSequence(s, msg(1, Tag.Prepare, { ballot: [2, 1], ld: 1 }));
  t.same(p[0], { to: 1, tag: Tag.Promise, data: { ballot: [2, 1], na: [1, 0], suffix: ['b', 'c'], ld: 1 } });
  const [, nack] = stepSequence(s, msg(0, Tag.Accept, { ballot: [1, 0], start: 3, entries: ['d'], decided: 1 }));
  t.same(nack[0].tag, Tag.Nack, 'an Accept of an older ballot is refused');
  const [, acc] = stepSequence(s, msg(1, Tag.Accept, { ballot: [2, 1], start: 1, entries: ['b', 'x'], decided: 2 }));
  t.same(s.va, ['a', 'b', 'x'], 'AcceptSync replaces the undecided tail');
  t.equal(s.ld, 2);
  t.same(acc[0], { to: 1, tag: Tag.Accepted, data: { ballot: [2, 1], length: 3 } });
  stepSequence(s, msg(1, Tag.Accept, { ballot: [2, 1], start: 5, entries: ['z'], decided: 2 }));
  t.same(s.va, ['a', 'b', 'x'], 'an Accept past a gap waits for the resend');
  stepSequence(s, msg(1, Tag.Decide, { ballot: [2, 1], ld: 3 }));
  t.equal(s.ld, 3);
});

t.test('leader (figure 4.5): adopts the highest (na, length) suffix of a majority, then one round trip per value', async (t) => {
  const s = startSequence(0, 3, 0, [['v'], [], []]);
  const [, prep] = stepSequence(s, { type: 'tick', nowMs: 0, random: 0.5, failed: [] });
  t.same(
    prep.filter((m) => m.tag === Tag.Prepare).map((m) => m.to),
    [0, 1, 2],
  );
  const ballot = s.leader!.ballot;
  stepSequence(s, msg(1, Tag.Promise, { ballot, na: [1, 2], suffix: ['p', 'q'], ld: 0 }));
  const [, sync] = stepSequence(s, msg(2, Tag.Promise, { ballot, na: [1, 1], suffix: ['r', 's', 't'], ld: 0 }));
  t.same(s.leader!.log, ['p', 'q'], 'the higher ballot wins over the longer log');
  t.same(
    sync.filter((m) => m.tag === Tag.Accept).map((m) => m.to),
    [1, 2],
  );
  const [, one] = stepSequence(s, msg(1, Tag.Propose, { values: ['w'] }));
  t.same(
    one.filter((m) => m.tag === Tag.Accept).map((m) => m.data),
    [1, 2].map(() => ({ ballot, start: 2, entries: ['w'], decided: 0 })),
    'phase 2 only',
  );
  stepSequence(s, msg(1, Tag.Accepted, { ballot, length: 3 }));
  const [, dec] = stepSequence(s, msg(2, Tag.Accepted, { ballot, length: 3 }));
  t.same(
    dec.filter((m) => m.tag === Tag.Decide).map((m) => m.data),
    [0, 1, 2].map(() => ({ ballot, ld: 3 })),
  );
});

interface Scenario {
  name: string;
  n: number;
  perClient: number;
  count: number;
  faults: (seed: number) => FaultOptions;
}
const SEEDS = Number(process.env.DSMPI_PAXOS_SEEDS ?? 120);
const scenarios: Scenario[] = [
  {
    name: 'n = 3, 10% loss, reordering across senders',
    n: 3,
    perClient: 3,
    count: SEEDS,
    faults: () => ({ drop: 0.1, reorder: { probability: 0.3, maxMs: 5 } }),
  },
  {
    name: 'n = 5, delays, no FIFO at all',
    n: 5,
    perClient: 2,
    count: SEEDS,
    faults: () => ({ delay: { minMs: 0.1, maxMs: 6 }, breakFifo: true, drop: 0.03 }),
  },
  {
    name: 'n = 5, the first leader (rank 0) crashes mid-run',
    n: 5,
    perClient: 3,
    count: SEEDS,
    faults: (seed) => ({ drop: 0.03, crashes: [{ rank: 0, atMs: 2 + (seed % 25) }] }),
  },
  {
    name: 'n = 5, two random crashes and healed partitions',
    n: 5,
    perClient: 2,
    count: SEEDS,
    faults: () => ({
      randomCrashes: { count: 2, withinMs: 60 },
      randomPartitions: { count: 2, withinMs: 80, minMs: 10, maxMs: 60 },
      delay: { minMs: 0.1, maxMs: 3 },
    }),
  },
  {
    name: 'n = 4, crash-recovery of one rank',
    n: 4,
    perClient: 2,
    count: Math.ceil(SEEDS / 2),
    faults: (seed) => ({ drop: 0.03, crashes: [{ rank: seed % 4, atMs: 3 + (seed % 20), restartAfterMs: 15 }] }),
  },
];

for (const sc of scenarios) {
  t.test(`simulation, ${sc.count} seeds, ${sc.name}: prefix invariant, no lost entry, every live rank completes`, async (t) => {
    await forEachSeed(sc.count, { first: sc.n * 1000 + sc.perClient * 100 }, async (seed) => {
      const seen: LogObservation[] = [];
      const values = valuesOf(sc.perClient);
      const r = await simulate({ n: sc.n, seed, faults: sc.faults(seed), timeLimitMs: 60_000 }, (c) =>
        sequencePaxosMain(c, values, defaultSequenceOptions, (rank, log, atMs) => seen.push({ rank, log, atMs })),
      );
      checkPrefixInvariant(seen);
      const submitted = Array.from({ length: sc.n }, (_, rank) => values(rank)).flat();
      r.results.forEach((o, rank) => {
        if (o) checkCompleteLog(rank, o.log, submitted);
        else if (!r.crashed.includes(rank)) throw new Error(`rank ${rank} has no outcome`);
      });
    });
    t.pass();
  });
}

t.test('a stable leader: one Prepare round, then one round trip per value, values in flight together', async (t) => {
  const n = 5;
  const perClient = 4;
  const r = await runRanks(n, (c) => sequencePaxosMain(c, valuesOf(perClient)), { seed: 7 });
  const tags = r.summary.perTag;
  const count = (tag: number): number => tags[String(tag)]?.messages ?? 0;
  t.same(
    r.results.map((o) => o!.led),
    [['(1,0)'], [], [], [], []],
    'rank 0 leads, once',
  );
  t.equal(count(Tag.Prepare), n - 1, 'phase 1 once (Prepare to the n - 1 others)');
  t.equal(count(Tag.Nack), 0);
  const decisions = n * perClient;
  t.ok(count(Tag.Accept) <= decisions * (n - 1) * 1.05, `Accept ≈ (n - 1) per value: ${count(Tag.Accept)} for ${decisions}`);
  t.ok(count(Tag.Accepted) <= decisions * (n - 1) * 1.05, `Accepted ≈ (n - 1) per value: ${count(Tag.Accepted)}`);
  t.ok(r.results.every((o) => o!.log.length === decisions));
});

t.test('the leader crashes: another rank takes over with a higher ballot and the log goes on', async (t) => {
  const r = await runRanks(5, (c) => sequencePaxosMain(c, valuesOf(6)), { seed: 3, faults: { crashes: [{ rank: 0, atMs: 2.5 }] } });
  t.equal(r.results[0], undefined);
  t.same(r.results[1]!.led.length > 0, true, 'rank 1 (the next lowest) led');
  const logs = r.results.slice(1).map((o) => JSON.stringify(o!.log));
  t.equal(new Set(logs).size, 1);
  t.equal(r.results[1]!.log.length, 30, "rank 0's values too: the lowest live rank submits them");
});

t.test('a rank that restarts long after the others decided still ends with the complete log', async (t) => {
  // Before: the others left 3 s after deciding whether or not every rank knew the log, and a rank
  // restarted from a persisted log waited for the others' farewells forever.
  for (const [rank, atMs] of [
    [0, 5],
    [1, 20],
    [2, 35],
  ]) {
    const r = await simulate({ n: 3, seed: 1, faults: { crashes: [{ rank, atMs, restartAfterMs: 6_000 }] }, timeLimitMs: 30_000 }, (c) =>
      sequencePaxosMain(c, valuesOf(2)),
    );
    const submitted = [0, 1, 2].flatMap(valuesOf(2));
    r.results.forEach((o, k) => checkCompleteLog(k, o!.log, submitted));
    t.equal(r.restarts[rank], 1, `rank ${rank} restarted and ended`);
  }
});
