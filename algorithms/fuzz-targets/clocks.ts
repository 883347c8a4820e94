/**
 * Fuzz targets of the clocks (see consensus.ts for what a target holds). Logical clocks play the
 * clock scenario (algorithms/clocks/scenario.ts) over the network: whatever the delays, every
 * timestamp must be the one the network-free replay gives, since the causal order is the same
 * (which also gives monotonicity and the clock condition). Cristian and Berkeley run on drifting
 * clocks: every clock must end within the error bound its algorithm claims. All of them block on
 * receives without timeouts: a lost message hangs them, so their model is a reliable network
 * without crashes.
 */
import type { Communicator } from 'dsmpi';
import type { FaultKind, FuzzTarget } from 'dsmpi/fuzz';
import { otherPort } from './common.ts';
import { berkeley, type BerkeleyResult } from '../classic/berkeley.ts';
import { cristian, type CristianResult } from '../classic/cristian.ts';
import { checkClockSync } from '../classic/drifting-clock.ts';

import { InvariantError } from '../checkers/consensus-invariants.ts';
import { LamportClock } from '../clocks/lamport-clock.ts';
import { replayScenario, runScenario, type EventClock, type ScenarioEvent } from '../clocks/scenario.ts';
import { VectorClock } from '../clocks/vector-clock.ts';

/** One message at most on each channel at a time: a sender's messages cannot overtake each other. */
const reliable: readonly FaultKind[] = ['reordering', 'broken-fifo', 'delay', 'pause'];

function scenarioTarget<T>(name: string, makeClock: (rank: number, n: number) => EventClock<T>): FuzzTarget<ScenarioEvent<T>[]> {
  return otherPort({
    name,
    horizonMs: 20,
    // A duplicate is never received: each rank receives one message from its predecessor.
    tolerates: [...reliable, 'duplicates'],
    setup(n) {
      const expected = replayScenario(n, (rank) => makeClock(rank, n));
      return {
        main: (c: Communicator) => runScenario(c, makeClock(c.rank, c.size)),
        check(r) {
          r?.results.forEach((events, rank) => {
            if (!events) return;
            const got = JSON.stringify(events);
            if (got !== JSON.stringify(expected[rank]))
              throw new InvariantError(
                'causal timestamps',
                `rank ${rank} stamped ${got}, the causal order gives ${JSON.stringify(expected[rank])}`,
              );
          });
        },
      };
    },
  });
}

export const lamportClock = scenarioTarget('lamport-clock', () => new LamportClock());
export const vectorClock = scenarioTarget('vector-clock', (rank, n) => new VectorClock(rank, n));

/** A sync whose every clock is within its bound (drift counted from the start: pauses stretch the exchanges). */
function clockSyncTarget<T extends { report: CristianResult['report'] }>(
  name: string,
  run: (c: Communicator) => Promise<T>,
): FuzzTarget<T> {
  return otherPort({
    name,
    horizonMs: 20,
    tolerates: reliable,
    setup() {
      return {
        main: run,
        check(r) {
          if (r)
            checkClockSync(
              r.results.flatMap((x) => (x ? [x.report] : [])),
              { measuredFromMs: () => 0 },
            );
        },
      };
    },
  });
}

export const cristianTarget = clockSyncTarget<CristianResult>('cristian', (c) => cristian(c));
export const berkeleyTarget = clockSyncTarget<BerkeleyResult>('berkeley', (c) => berkeley(c, { toleranceMs: 5000 }));
