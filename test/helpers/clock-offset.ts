import { monotonicMs } from '../../runtime/protocol/epoch-clock.ts';

/**
 * read() − the machine's monotonic time at the same instant: from a reading less than 2 µs apart
 * from the monotonic ones around it (else the tightest of 1000). Two processes whose clocks give
 * the same offset read the same time at every common instant.
 */
export function offsetFromMonotonic(read: () => number): number {
  let best = { offset: 0, gap: Infinity };
  for (let i = 0; i < 1000 && best.gap > 0.002; i++) {
    const before = monotonicMs();
    const ms = read();
    const after = monotonicMs();
    if (after - before < best.gap) best = { offset: ms - (before + after) / 2, gap: after - before };
  }
  return best.offset;
}

/** The old trace clock: each process fixes its timeOrigin on its own. */
export const performanceEpochMs = (): number => performance.timeOrigin + performance.now();
