/**
 * The clock of traces under dsrun: epoch milliseconds with sub-millisecond resolution, read alike by
 * the launcher, its agents and every rank, so their trace times line up.
 */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}
