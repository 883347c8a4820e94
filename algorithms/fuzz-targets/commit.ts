/** Fuzz targets of the atomic-commit ports (see consensus.ts for what a target holds). */
import type { SimulationResult } from 'dsmpi';
import type { FuzzTarget } from 'dsmpi/fuzz';
import { checkAtomicity, checkCommitValidity } from '../checkers/commit.ts';
import type { CommitOutcome, CommitResult } from '../commit/common.ts';
import { Tag as ThreePhaseTag, threePhaseCommit } from '../commit/three-phase-commit.ts';
import { twoPhaseCommit } from '../commit/two-phase-commit.ts';
import { EVERY_FAULT } from './common.ts';

/** One participant in five votes no, drawn from the run's seed. */
const vote = (c: { random(): number }) => () => c.random() >= 0.2;

/** Every rank's outcome: its result, or what a rank that crashed for good had recorded durably. */
function outcomes(r: SimulationResult<CommitResult>, decisionKey: string, outcomeKey: string): Array<CommitOutcome | undefined> {
  return r.results.map((x, rank) => {
    if (x && x.outcome !== 'CRASHED') return x.outcome;
    const d = r.storage(rank).get<string>(rank === 0 ? decisionKey : outcomeKey);
    return d === 'COMMIT' ? 'COMMITTED' : d === 'ABORT' ? 'ABORTED' : undefined;
  });
}

export const twoPhase: FuzzTarget<CommitResult> = {
  name: 'two-phase-commit',
  family: 'commit',
  minN: 1,
  maxN: 9,
  horizonMs: 800,
  tolerates: EVERY_FAULT,
  livenessMs: () => 5_000,
  setup() {
    return {
      main: (c) => twoPhaseCommit(c, { vote: vote(c) }),
      check(r) {
        if (!r) return;
        const o = outcomes(r, '2pc/decision', '2pc/outcome');
        checkAtomicity(o);
        checkCommitValidity(
          o,
          r.results.map((x, rank) => x?.vote ?? r.storage(rank).get<'yes' | 'no'>('2pc/vote')),
        );
      },
    };
  },
};

export const threePhase: FuzzTarget<CommitResult> = {
  name: 'three-phase-commit',
  family: 'commit',
  minN: 1,
  maxN: 9,
  horizonMs: 50,
  // Its timing assumptions: no message lost or duplicated, ranks crash-stop, the coordinator never.
  tolerates: ['reordering', 'broken-fifo', 'delay', 'crash-stop', 'pause'],
  outOfModel: (s) => (s.crashes.some((c) => c.rank === 0) ? 'the coordinator crashes' : undefined),
  livenessMs: () => 5_000,
  setup() {
    // Each participant's vote as drawn: a participant that crashed for good returns none.
    const drawn: Array<'yes' | 'no'> = [];
    return {
      main: (c) =>
        threePhaseCommit(c, {
          vote: (rank) => {
            const yes = vote(c)();
            drawn[rank] = yes ? 'yes' : 'no';
            return yes;
          },
        }),
      check(r) {
        if (!r) return;
        const o = r.results.map((x) => x?.outcome);
        checkAtomicity(o);
        // A crashed participant voted if its vote reached the coordinator.
        const reached = new Set(
          r.trace.flatMap((e) => (e.ev === 'deliver' && e.rank === 0 && e.tag === ThreePhaseTag.Vote ? [e.from] : [])),
        );
        checkCommitValidity(
          o,
          r.results.map((x, rank) => x?.vote ?? (reached.has(rank) ? drawn[rank] : undefined)),
        );
      },
    };
  },
};
