// Three-phase commit (book 4.6.1, exercise 2 of 8.6): rank 0 coordinates. Each rank prints its state
// transitions (INIT → WAIT → PRECOMMITTED → COMMITTED, or ABORTED); its last line is `rank r:
// COMMITTED` or `rank r: ABORTED`. When the coordinator stops after PreCommit, the participants do
// not block: they time out PRECOMMITTED and commit.
// Usage: dsrun -n 4 examples/three-phase-commit.ts [scenario] [decision delay, ms]
//   all-yes (default) | one-no | silent | coordinator-crash-after-precommit | slow-coordinator
// It survives a dsrun --kill of anyone (docs/faults.md). slow-coordinator waits 1 s (or the ms given after it) between the
// Acks and DoCommit, a window for a real crash: `dsrun -n 4 --kill 0@0.5s
// examples/three-phase-commit.ts slow-coordinator`: the participants, PRECOMMITTED, time out and
// commit. Loss and partitions are outside 3PC's model: under --drop or --partition every rank still
// ends COMMITTED or ABORTED, but not necessarily all the same.
import { run } from 'dsmpi';
import { threePhaseCommit, type ThreePhaseCommitOptions } from '../algorithms/commit/three-phase-commit.ts';
import { choiceArg, intArg } from './lib/args.ts';

const scenario = choiceArg(
  1,
  'scenario',
  ['all-yes', 'one-no', 'silent', 'coordinator-crash-after-precommit', 'slow-coordinator'] as const,
  'all-yes',
);
// How long slow-coordinator takes to decide (default 1000 ms): a longer window for a --kill to land in.
const decisionDelayMs = intArg(2, 'decision delay in ms', 1000);

await run(
  async (world) => {
    const r = world.rank;
    const last = world.size - 1;
    const options: ThreePhaseCommitOptions = {
      vote: (rank) => !(scenario === 'one-no' && rank === last),
      // Real processes start some way apart: timeouts generous enough for a loaded machine.
      voteTimeoutMs: 2000,
      ackTimeoutMs: 1000,
      canCommitTimeoutMs: 4000,
      preCommitTimeoutMs: 4000,
      commitTimeoutMs: 6000,
      haveCommittedTimeoutMs: 1000,
      silentMs: scenario === 'silent' && r === last && r > 0 ? 3000 : 0,
      decisionDelayMs: scenario === 'slow-coordinator' ? decisionDelayMs : 0,
      coordinatorStops: scenario === 'coordinator-crash-after-precommit' ? 'after-precommit' : undefined,
      onTransition: (s) => console.log(`rank ${r} -> ${s}`),
    };
    const result = await threePhaseCommit(world, options);
    if (result.outcome === 'CRASHED') console.log(`rank ${r}: CRASHED (the coordinator stopped after PreCommit; silent from here on)`);
    else console.log(`rank ${r}: ${result.outcome}`);
  },
  { surviveFailures: true },
);
