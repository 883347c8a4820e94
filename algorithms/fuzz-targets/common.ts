/** What the fuzz targets share. */
import type { SimulationResult } from 'dsmpi';
import { FAULT_KINDS, type FaultKind, type FuzzTarget } from 'dsmpi/fuzz';

export const EVERY_FAULT: readonly FaultKind[] = FAULT_KINDS;

/** Ranks that did not crash for good. */
export function liveRanks(r: SimulationResult<unknown>): number[] {
  return r.results.map((_, rank) => rank).filter((rank) => !r.crashed.includes(rank));
}

/** The defaults of a port outside consensus and commit: n = 1..9, every live rank done within 5 s. */
export function otherPort<T>(
  target: Omit<FuzzTarget<T>, 'family' | 'minN' | 'maxN' | 'livenessMs'> & Partial<Pick<FuzzTarget<T>, 'minN' | 'livenessMs'>>,
): FuzzTarget<T> {
  return { family: 'other', minN: 1, maxN: 9, livenessMs: () => 5_000, ...target };
}
