// Atomic commit (book 4.6.1, exercise 2 of 8.6): the scenarios' outcomes, and atomicity (all ranks
// that decide, decide the same) and validity across many seeds with crashes, restarts and drops.
import t from 'tap';
import assert from 'node:assert/strict';
import { simulate, type Communicator, type SimulationResult } from 'dsmpi';
import { twoPhaseCommit, type TwoPhaseCommitOptions } from '../../algorithms/commit/two-phase-commit.ts';
import { threePhaseCommit, Tag as ThreePhaseTag, type ThreePhaseCommitOptions } from '../../algorithms/commit/three-phase-commit.ts';
import type { CommitOutcome, CommitResult } from '../../algorithms/commit/common.ts';
import { checkAtomicity, checkCommitValidity } from '../../algorithms/checkers/commit.ts';
import { runRanks, runSeeds } from '../helpers/run-ranks.ts';

const outcomes = (r: SimulationResult<CommitResult>) => r.results.map((x) => x?.outcome);

t.test('2PC scenarios (n = 4)', async (t) => {
  const cases: Array<[string, TwoPhaseCommitOptions | ((rank: number) => TwoPhaseCommitOptions), CommitOutcome[]]> = [
    ['all yes', {}, ['COMMITTED', 'COMMITTED', 'COMMITTED', 'COMMITTED']],
    ['one no', { vote: (r) => r !== 3 }, ['ABORTED', 'ABORTED', 'ABORTED', 'ABORTED']],
    ['a silent participant', (r) => ({ silentMs: r === 3 ? 1000 : 0 }), ['ABORTED', 'ABORTED', 'ABORTED', 'ABORTED']],
    [
      'the coordinator stops before deciding: 2PC blocks',
      { coordinatorStops: 'before-decision' },
      ['CRASHED', 'BLOCKED', 'BLOCKED', 'BLOCKED'],
    ],
    [
      'the coordinator stops after deciding: 2PC blocks',
      { coordinatorStops: 'after-decision' },
      ['CRASHED', 'BLOCKED', 'BLOCKED', 'BLOCKED'],
    ],
  ];
  for (const [name, opts, expected] of cases) {
    const r = await runRanks(4, (c: Communicator) => twoPhaseCommit(c, typeof opts === 'function' ? opts(c.rank) : opts));
    t.same(outcomes(r), expected, name);
  }
  const one = await runRanks(1, (c: Communicator) => twoPhaseCommit(c));
  t.same(outcomes(one), ['COMMITTED'], 'n = 1: the coordinator alone commits');
});

t.test('2PC: the decision is recorded before it is sent; a restarted coordinator resends it', async (t) => {
  // Rank 0 crashes right after its 3 CanCommit sends + ... : crash it after deciding (on its 4th send,
  // the first DoCommit), restart it: it reads the recorded decision and the participants commit.
  const r = await runRanks(4, (c: Communicator) => twoPhaseCommit(c), {
    faults: { crashes: [{ rank: 0, afterSends: 4, restartAfterMs: 400 }] },
  });
  t.equal(r.storage(0).get('2pc/decision'), 'COMMIT');
  t.same(outcomes(r), ['COMMITTED', 'COMMITTED', 'COMMITTED', 'COMMITTED']);
  t.same(r.results[0]!.history, ['RECOVERED', 'COMMITTED']);
});

/** Every rank's outcome, from its result or, for a rank that crashed for good, its durable storage. */
function twoPcOutcomes(r: SimulationResult<CommitResult>): Array<CommitOutcome | undefined> {
  return r.results.map((x, rank) => {
    if (x && x.outcome !== 'CRASHED') return x.outcome;
    const d = r.storage(rank).get<string>(rank === 0 ? '2pc/decision' : '2pc/outcome');
    return d === 'COMMIT' ? 'COMMITTED' : d === 'ABORT' ? 'ABORTED' : undefined;
  });
}

t.test('2PC atomicity and validity over 120 seeds: random crashes (some restart), drops, some no votes', async (t) => {
  let committed = 0;
  let blocked = 0;
  for (const [restart, first] of [
    [undefined, 1],
    [300, 1001],
  ] as const) {
    await runSeeds(
      60,
      5,
      (c: Communicator) => twoPhaseCommit(c, { vote: (rank) => (c.rank * 7 + rank) % 11 !== 0 || c.random() < 0.8 }),
      { first, faults: { drop: 0.15, duplicate: 0.05, randomCrashes: { count: 2, withinMs: 400, restartAfterMs: restart } } },
      (r) => {
        const o = twoPcOutcomes(r);
        checkAtomicity(o);
        const votes = r.results.map((x, rank) => x?.vote ?? r.storage(rank).get<'yes' | 'no'>('2pc/vote'));
        checkCommitValidity(o, votes);
        if (o.includes('COMMITTED')) committed++;
        if (o.includes('BLOCKED')) blocked++;
      },
    );
  }
  t.ok(committed > 0, `some runs commit (${committed}), some block (${blocked})`);
});

t.test('3PC scenarios (n = 4)', async (t) => {
  const cases: Array<[string, (rank: number) => ThreePhaseCommitOptions, CommitOutcome[]]> = [
    ['all yes', () => ({}), ['COMMITTED', 'COMMITTED', 'COMMITTED', 'COMMITTED']],
    ['one no', () => ({ vote: (r) => r !== 3 }), ['ABORTED', 'ABORTED', 'ABORTED', 'ABORTED']],
    ['a silent participant', (r) => ({ silentMs: r === 3 ? 800 : 0 }), ['ABORTED', 'ABORTED', 'ABORTED', 'ABORTED']],
    [
      'the coordinator stops after PreCommit: no blocking, all commit',
      () => ({ coordinatorStops: 'after-precommit' }),
      ['CRASHED', 'COMMITTED', 'COMMITTED', 'COMMITTED'],
    ],
    [
      'the coordinator stops before deciding: all abort',
      () => ({ coordinatorStops: 'before-decision' }),
      ['CRASHED', 'ABORTED', 'ABORTED', 'ABORTED'],
    ],
  ];
  for (const [name, opts, expected] of cases) {
    const r = await runRanks(4, (c: Communicator) => threePhaseCommit(c, opts(c.rank)));
    t.same(outcomes(r), expected, name);
    for (const x of r.results)
      if (x?.outcome === 'COMMITTED' && x.role === 'participant') t.same(x.history.slice(0, 3), ['INIT', 'WAIT', 'PRECOMMITTED']);
  }
});

t.test('3PC atomicity within its assumptions: 100 seeds, participants crash, the coordinator stops between phases', async (t) => {
  const stops = [undefined, 'before-decision', 'after-precommit'] as const;
  await runSeeds(
    100,
    5,
    (c: Communicator) => threePhaseCommit(c, { coordinatorStops: stops[Math.floor(c.random() * 3)] }),
    {
      faults: {
        delay: { minMs: 0.1, maxMs: 20 },
        reorder: { probability: 0.2, maxMs: 10 },
        randomCrashes: { count: 2, withinMs: 500, ranks: [1, 2, 3, 4] },
      },
    },
    (r) => {
      checkAtomicity(outcomes(r));
      assert.ok(!outcomes(r).includes('BLOCKED'));
    },
  );
  t.pass('no run decided both ways; none blocked');
});

t.test('3PC: a coordinator paused past its Ack deadline counts the Acks that came in time (atomicity)', async (t) => {
  // Before: on resume the wait, its deadline already past, reported a timeout without looking at the
  // Acks queued during the pause; the coordinator aborted while the participants, PRECOMMITTED past
  // their timeout, committed. No loss, no crash: only the pause.
  for (const seed of [1, 2, 3]) {
    const first = await simulate({ n: 3, seed }, (c) => threePhaseCommit(c));
    const preCommitAt = first.trace.find((e) => e.ev === 'send' && (e as { tag?: number }).tag === ThreePhaseTag.PreCommit)!.t;
    const r = await simulate({ n: 3, seed, faults: { pauses: [{ rank: 0, atMs: preCommitAt + 0.001, forMs: 2_000 }] } }, (c) =>
      threePhaseCommit(c),
    );
    checkAtomicity(outcomes(r));
    t.same(outcomes(r), ['COMMITTED', 'COMMITTED', 'COMMITTED'], `seed ${seed}`);
  }
});
