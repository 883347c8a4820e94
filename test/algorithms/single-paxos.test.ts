// Single-decree Paxos with telemetry (book 4.1, 4.4): pure steps, then agreement, validity and
// termination over many seeds under loss, delay, reordering, partitions and crashes.
import t from 'tap';
import { simulate, type FaultOptions } from 'dsmpi';
import { checkConsensus } from '../../algorithms/checkers/consensus-invariants.ts';
import {
  corePaxosLayout,
  defaultPaxosOptions,
  lastGood,
  paxosLayout,
  singlePaxosMain,
  startPaxos,
  stepPaxos,
  Tag,
} from '../../algorithms/paxos/single-paxos.ts';
import type { Input } from '../../algorithms/common/serve.ts';
import { forEachSeed, runRanks } from '../helpers/run-ranks.ts';

const msg = (source: number, tag: number, data: unknown, nowMs = 1): Input => ({ type: 'message', source, tag, data, nowMs, random: 0.5 });
const valueOf = (rank: number): number => 40 + rank;

t.test('layout: blocks of k for n = 5k, extra ranks to the acceptors, below 5 an error', async (t) => {
  t.same(paxosLayout(5), { clients: [0], proposers: [1], acceptors: [2], learners: [3], telemetry: [4] });
  t.same(paxosLayout(10), { clients: [0, 1], proposers: [2, 3], acceptors: [4, 5], learners: [6, 7], telemetry: [8, 9] });
  t.same(paxosLayout(8).acceptors, [2, 3, 4, 5]);
  t.throws(() => paxosLayout(4), { code: 'DS_ERR_INVALID_ARGUMENT', message: /at least 5 ranks/ });
});

t.test('acceptor (4.1): promises only above its promise, and the Promise carries what it accepted', async (t) => {
  const [a] = startPaxos<number>(4, 10, 0, undefined);
  t.same(stepPaxos(a, msg(2, Tag.Prepare, { ballot: [1, 2] }))[1], [{ to: 2, tag: Tag.Promise, data: { ballot: [1, 2], accepted: null } }]);
  const [, acc] = stepPaxos(a, msg(2, Tag.Accept, { ballot: [1, 2], value: 42 }));
  t.same(
    acc.map((m) => [m.to, m.tag]),
    [
      [2, Tag.Accepted],
      [6, Tag.Accepted],
      [7, Tag.Accepted],
    ],
    'Accepted to the proposer and every learner',
  );
  t.same(stepPaxos(a, msg(3, Tag.Prepare, { ballot: [1, 3] }))[1][0].data, { ballot: [1, 3], accepted: { ballot: [1, 2], value: 42 } });
  t.same(
    stepPaxos(a, msg(2, Tag.Prepare, { ballot: [1, 2] }))[1][0],
    { to: 2, tag: Tag.Nack, data: { ballot: [1, 2], promised: [1, 3] } },
    'equal ballots are refused (strict >)',
  );
  t.same(stepPaxos(a, msg(2, Tag.Accept, { ballot: [1, 2], value: 7 }))[1][0].tag, Tag.Nack);
});

t.test('proposer (4.1): adopts the value of the highest accepted ballot in a majority of promises', async (t) => {
  // n = 15: acceptors 6, 7, 8; majority 2.
  const [p] = startPaxos<number>(3, 15, 0, undefined);
  const [, prep] = stepPaxos(p, msg(0, Tag.Propose, { value: 40 }));
  t.same(
    prep.map((m) => m.to),
    [6, 7, 8],
  );
  const ballot = p.proposer.ballot;
  t.same(ballot, [1, 3]);
  stepPaxos(p, msg(6, Tag.Promise, { ballot, accepted: { ballot: [1, 4], value: 99 } }));
  const [, acc] = stepPaxos(p, msg(7, Tag.Promise, { ballot, accepted: null }));
  t.same(
    acc.filter((m) => m.tag === Tag.Accept).map((m) => m.data),
    [0, 1, 2].map(() => ({ ballot, value: 99 })),
    'not its own 40',
  );
  t.ok(
    acc.some((m) => m.tag === Tag.Snapshot && m.to === 12),
    'snapshot of the proposal to telemetry',
  );
  const [, nack] = stepPaxos(p, msg(8, Tag.Nack, { ballot, promised: [5, 2] }));
  t.equal(p.proposer.phase, 'backoff');
  t.ok(
    nack.some((m) => m.tag === Tag.Revert),
    'Revert of the abandoned ballot',
  );
  const [, retry] = stepPaxos(p, { type: 'tick', nowMs: p.proposer.deadlineMs, random: 0.5, failed: [] });
  t.same(p.proposer.ballot, [6, 3], 'next ballot above the Nack');
  t.equal(retry.filter((m) => m.tag === Tag.Prepare).length, 3);
});

t.test('learner and telemetry (4.4): a majority of Accepted decides; the snapshot is kept and restored', async (t) => {
  const [l, restore] = startPaxos<number>(9, 15, 0, undefined);
  t.same(
    restore.map((m) => [m.to, m.tag]),
    [
      [12, Tag.Restore],
      [13, Tag.Restore],
      [14, Tag.Restore],
    ],
  );
  stepPaxos(l, msg(6, Tag.Accepted, { ballot: [1, 3], value: 41 }));
  t.equal(l.decided, undefined);
  const [, snap] = stepPaxos(l, msg(7, Tag.Accepted, { ballot: [1, 3], value: 41 }));
  t.same(l.decided, { value: 41 });
  const [tel] = startPaxos<number>(12, 15, 0, undefined);
  stepPaxos(tel, msg(9, Tag.Snapshot, snap.find((m) => m.to === 12)!.data));
  t.same(lastGood(tel.snapshots)?.value, 41);
  const [, reply] = stepPaxos(tel, msg(10, Tag.Restore, null));
  const [fresh] = startPaxos<number>(10, 15, 0, undefined);
  stepPaxos(fresh, msg(12, Tag.Restored, reply[0].data));
  t.same(fresh.decided, { value: 41 }, 'a learner that lost everything restores the last good state');
});

function check(values: Array<{ decided: number | undefined } | undefined>, n: number, crashed: readonly number[]): void {
  const live = Array.from({ length: n }, (_, r) => r).filter((r) => !crashed.includes(r));
  checkConsensus(
    values.map((v) => v?.decided),
    paxosLayout(n).clients.map(valueOf),
    { requireAll: live },
  );
}

const SEEDS = Number(process.env.DSMPI_PAXOS_SEEDS ?? 120);
const scenarios: Array<{ name: string; n: number; faults: (seed: number) => FaultOptions }> = [
  { name: 'n = 5, 10% loss, delays', n: 5, faults: () => ({ drop: 0.1, delay: { minMs: 0.1, maxMs: 3 } }) },
  {
    name: 'n = 10, two proposers with different values, loss and reordering',
    n: 10,
    faults: () => ({ drop: 0.05, reorder: { probability: 0.3, maxMs: 5 } }),
  },
  {
    name: 'n = 15, crash of a proposer and an acceptor (a minority), healed partitions',
    n: 15,
    faults: (seed) => ({
      crashes: [
        { rank: 3 + (seed % 3), atMs: seed % 20 },
        { rank: 6 + (seed % 3), atMs: (seed * 7) % 30 },
      ],
      randomPartitions: { count: 1, withinMs: 50, minMs: 10, maxMs: 100 },
      delay: { minMs: 0.1, maxMs: 2 },
    }),
  },
  {
    name: 'n = 7 (default layout: 3 acceptors), crash-recovery of an acceptor and a learner',
    n: 7,
    faults: (seed) => ({
      drop: 0.05,
      crashes: [
        { rank: 2 + (seed % 3), atMs: seed % 15, restartAfterMs: 20 },
        { rank: 5, atMs: 5 + (seed % 30), restartAfterMs: 10 },
      ],
    }),
  },
];

for (const sc of scenarios) {
  const count = sc.n >= 15 ? Math.ceil(SEEDS / 3) : SEEDS;
  t.test(`simulation, ${count} seeds, ${sc.name}: agreement, validity, every live rank decides`, async (t) => {
    await forEachSeed(count, { first: sc.n * 1000 }, async (seed) => {
      const r = await simulate({ n: sc.n, seed, faults: sc.faults(seed), timeLimitMs: 60_000 }, (c) => singlePaxosMain(c, valueOf));
      check(r.results, sc.n, r.crashed);
    });
    t.pass();
  });
}

t.test('one replayable run at n = 10: every rank decides one client value; telemetry keeps it', async (t) => {
  const r = await runRanks(10, (c) => singlePaxosMain(c, valueOf), { faults: { drop: 0.05 } });
  const decided = r.results.map((x) => x?.decided);
  t.equal(new Set(decided).size, 1);
  t.ok([40, 41].includes(decided[0]!));
  for (const tel of [8, 9]) {
    const stored = r.storage(tel).get<{ snapshots: Array<{ status: string; value: number }> }>('single-paxos');
    t.ok(
      stored?.snapshots.some((s) => s.status === 'decided' && s.value === decided[0]),
      `telemetry ${tel} stored the decision durably`,
    );
  }
});

t.test('a rank that restarts long after the others decided still ends, knowing the decision', async (t) => {
  // Before: the others left 3 s after deciding (maxLingerMs), whether or not every rank knew; a rank
  // down for longer came back alone (a learner asking telemetry ranks that had exited) and waited
  // forever. Crashes before deciding (ranks 0, 3) and right after (rank 4).
  for (const [rank, atMs] of [
    [0, 1],
    [3, 1],
    [4, 2],
  ]) {
    const r = await simulate({ n: 5, seed: 1, faults: { crashes: [{ rank, atMs, restartAfterMs: 6_000 }] }, timeLimitMs: 30_000 }, (c) =>
      singlePaxosMain(c, valueOf),
    );
    check(r.results, 5, r.crashed);
    t.equal(r.restarts[rank], 1, `rank ${rank} restarted and ended`);
  }
});

t.test('the core layout: two proposers with their own values and the acceptors, nothing else', async (t) => {
  t.same(corePaxosLayout(5), { clients: [], proposers: [0, 1], acceptors: [2, 3, 4], learners: [], telemetry: [] });
  t.throws(() => corePaxosLayout(2), { code: 'DS_ERR_INVALID_ARGUMENT', message: /at least 3 ranks/ });
  const options = { ...defaultPaxosOptions, layout: corePaxosLayout };
  const [, first] = startPaxos<number>(1, 5, 0, valueOf(1), options);
  t.same(first, [{ to: 1, tag: Tag.Propose, data: { value: 41 } }], 'a proposer sends itself its own value');
  for (const seed of [1, 2, 3]) {
    const r = await simulate({ n: 5, seed, faults: { drop: 0.1 } }, (c) => singlePaxosMain(c, valueOf, options));
    const decided = r.results.map((o) => o?.decided);
    checkConsensus(decided, [valueOf(0), valueOf(1)], { requireAll: [0, 1, 2, 3, 4] });
    t.ok(decided[0] !== undefined, `seed ${seed}: every rank decided ${decided[0]}`);
  }
});
