/**
 * Fuzz targets of the mutual-exclusion ports (see consensus.ts for what a target holds). Safety: no
 * two ranks in the critical section at once (ME1), from the recorded enter and exit times. Their
 * model is a reliable FIFO network without crashes: only delays, reordering across senders and
 * pauses are in it; everything else is run and reported as outside the model.
 */
import type { Communicator } from 'dsmpi';
import type { FuzzTarget } from 'dsmpi/fuzz';
import { findOverlap, type MutexResult } from '../classic/common.ts';
import { centralMutex } from '../classic/central-mutex.ts';
import { maekawa } from '../classic/maekawa.ts';
import { ricartAgrawala } from '../classic/ricart-agrawala.ts';
import { tokenRing } from '../classic/token-ring.ts';
import { otherPort } from './common.ts';

const ENTRIES = 3;

function mutexTarget(
  name: string,
  minN: number,
  run: (comm: Communicator, options: { entries: number }) => Promise<MutexResult>,
): FuzzTarget<MutexResult> {
  return otherPort({
    name,
    minN,
    horizonMs: 60,
    tolerates: ['reordering', 'delay', 'pause'],
    setup() {
      return {
        main: (c) => run(c, { entries: ENTRIES }),
        check(r) {
          if (!r) return;
          const overlap = findOverlap(r.results.flatMap((x) => x?.intervals ?? []));
          if (overlap) throw new Error(`two ranks in the critical section at once: ${JSON.stringify(overlap)}`);
        },
      };
    },
  });
}

export const central = mutexTarget('central-mutex', 2, centralMutex);
export const ring = mutexTarget('token-ring', 1, tokenRing);
export const ricart = mutexTarget('ricart-agrawala', 1, ricartAgrawala);
export const maekawaTarget = mutexTarget('maekawa', 1, maekawa);
