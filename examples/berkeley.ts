// The Berkeley algorithm on drifting clocks: rank 0 polls every clock, averages, and sends each rank
// its adjustment. Usage: dsrun -n 4 examples/berkeley.ts   (docs/algorithms/berkeley.md)
import { run } from 'dsmpi';
import { berkeley, berkeleyAverage } from '../algorithms/classic/berkeley.ts';
import { randomDriftingClock } from '../algorithms/classic/drifting-clock.ts';
import { printSkew, sharedTrueNow } from '../algorithms/classic/clock-report.ts';

await run(async (world) => {
  if (world.rank === 0) {
    const v = berkeleyAverage([0, -10, 25, 120], 30);
    console.log(
      `notes' vector 3:00 2:50 3:25 5:00 (tolerance 30 min): average +${v.averageMs} min, adjustments ${v.adjustmentsMs.join(' ')}, 5:00 ${v.included[3] ? 'kept' : 'left out'}`,
    );
  }
  // The machine's monotonic clock: one time line for every process of the machine, to the
  // nanosecond (performance.timeOrigin + now() is not: each process fixes its origin on its own).
  const trueNow = await sharedTrueNow(world, () => Number(process.hrtime.bigint()) / 1e6);
  const clock = randomDriftingClock(world, { trueNow });
  const r = await berkeley(world, { toleranceMs: 5000 }, clock);
  console.log(`adjusted by ${r.report.adjustmentMs >= 0 ? '+' : ''}${r.report.adjustmentMs.toFixed(3)} ms`);
  const reports = await world.gather(r.report);
  if (world.rank === 0 && !printSkew(reports!)) process.exitCode = 1;
});
