/** What the fuzz targets share. */
import type { SimulationResult } from 'dsmpi';
import { FAULT_KINDS, type FaultKind } from 'dsmpi/fuzz';

export const EVERY_FAULT: readonly FaultKind[] = FAULT_KINDS;

/** Ranks that did not crash for good. */
export function liveRanks(r: SimulationResult<unknown>): number[] {
  return r.results.map((_, rank) => rank).filter((rank) => !r.crashed.includes(rank));
}
