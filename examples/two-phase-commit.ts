// Two-phase commit (book 4.6.1): rank 0 coordinates, the others vote. Each rank prints its state
// transitions; its last line is `rank r: COMMITTED`, `rank r: ABORTED`, or, where 2PC blocks,
// `rank r: BLOCKED …`. Exit status 0 in every scenario: the outcome is the printed state.
// Usage: dsrun -n 4 examples/two-phase-commit.ts [scenario] [decision delay, ms]
//   all-yes (default) | one-no | silent | coordinator-crash-before | coordinator-crash-after | slow-coordinator
// It survives dsrun's faults (docs/faults.md): --drop (messages are resent), a one-way --partition,
// and a --kill of anyone. slow-coordinator takes 1 s (or the ms given after it) to decide once the votes are in, a window for a
// real crash: `dsrun -n 4 --kill 0@0.5s examples/two-phase-commit.ts slow-coordinator` shows 2PC's
// blocking: the participants voted yes, nobody knows the decision, each reports BLOCKED and the job ends.
import { run } from 'dsmpi';
import { twoPhaseCommit, type TwoPhaseCommitOptions } from '../algorithms/commit/two-phase-commit.ts';
import { choiceArg, intArg } from './lib/args.ts';

const scenario = choiceArg(
  1,
  'scenario',
  ['all-yes', 'one-no', 'silent', 'coordinator-crash-before', 'coordinator-crash-after', 'slow-coordinator'] as const,
  'all-yes',
);
// How long slow-coordinator takes to decide (default 1000 ms): a longer window for a --kill to land in.
const decisionDelayMs = intArg(2, 'decision delay in ms', 1000);

await run(
  async (world) => {
    const r = world.rank;
    const last = world.size - 1;
    const options: TwoPhaseCommitOptions = {
      vote: (rank) => !(scenario === 'one-no' && rank === last),
      // Real processes start some way apart: timeouts generous enough for a loaded machine.
      voteTimeoutMs: 2000,
      canCommitTimeoutMs: 4000,
      decisionTimeoutMs: 500,
      // A participant waits for a slow coordinator's decision as long as it is known to take, and more.
      blockedAfterMs: 1500 + (scenario === 'slow-coordinator' ? decisionDelayMs : 0),
      ackTimeoutMs: 4000,
      lingerMs: 1000,
      silentMs: scenario === 'silent' && r === last && r > 0 ? 3000 : 0,
      decisionDelayMs: scenario === 'slow-coordinator' ? decisionDelayMs : 0,
      coordinatorStops:
        scenario === 'coordinator-crash-before' ? 'before-decision' : scenario === 'coordinator-crash-after' ? 'after-decision' : undefined,
      onTransition: (s) => console.log(`rank ${r} -> ${s}`),
    };
    const result = await twoPhaseCommit(world, options);
    if (result.outcome === 'BLOCKED') console.log(`rank ${r}: BLOCKED (uncertain: voted yes, and no rank it can reach knows the decision)`);
    else if (result.outcome === 'CRASHED')
      console.log(`rank ${r}: CRASHED (the coordinator stopped ${options.coordinatorStops}; silent from here on)`);
    else console.log(`rank ${r}: ${result.outcome}`);
  },
  { surviveFailures: true },
);
