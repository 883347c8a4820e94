/**
 * What the clock-synchronisation examples share: a reference time common to the processes of one
 * machine (so rank 0 can read every simulated clock at one instant), and the skew report.
 */
import type { Communicator } from 'dsmpi';
import { maxSkew, skewBound, type ClockReport } from './drifting-clock.ts';

/**
 * A true time shared by the ranks: under dsrun the processes' `comm.clock` origins differ, so the
 * caller passes a machine-wide time (e.g. the monotonic clock, process.hrtime.bigint()); it is shifted
 * to start near 0 at rank 0's reading.
 */
export async function sharedTrueNow(world: Communicator, machineNow: () => number): Promise<() => number> {
  const epoch = await world.bcast(world.rank === 0 ? machineNow() : undefined, 0);
  return () => machineNow() - epoch!;
}

/** Prints the skew before and after at the last sync and checks it against the bound. */
export function printSkew(reports: ClockReport[]): boolean {
  const t = Math.max(...reports.map((r) => r.syncedAtMs));
  const { beforeMs, afterMs } = maxSkew(reports, t);
  const bound = skewBound(reports, reports[0], t);
  console.log(`max skew before: ${beforeMs.toFixed(3)} ms, after: ${afterMs.toFixed(3)} ms, bound: ${bound.toFixed(3)} ms`);
  // 0.01 ms covers the clocks' reading resolution.
  const ok = afterMs <= bound + 0.01;
  console.log(`CHECK skew within bound: ${ok ? 'OK' : 'FAIL'}`);
  return ok;
}
