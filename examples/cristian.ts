// Cristian's algorithm on drifting clocks: rank 0 is the time server; every other rank asks it 3
// times and keeps the fastest answer. Usage: dsrun -n 4 examples/cristian.ts   (docs/algorithms/cristian.md)
import { run } from 'dsmpi';
import { cristian, cristianEstimate } from '../algorithms/classic/cristian.ts';
import { randomDriftingClock } from '../algorithms/classic/drifting-clock.ts';
import { printSkew, sharedTrueNow } from '../algorithms/classic/clock-report.ts';

await run(async (world) => {
  if (world.rank === 0) {
    const v = cristianEstimate(100, 150, 152, 110);
    console.log(
      `notes' vector T1=100 T2=150 T3=152 T4=110: rtt ${v.rttMs}, offset +${v.offsetMs}, new time ${v.newTimeMs}, error ±${v.errorMs}`,
    );
  }
  // The machine's monotonic clock: one time line for every process of the machine, to the
  // nanosecond (performance.timeOrigin + now() is not: each process fixes its origin on its own).
  const trueNow = await sharedTrueNow(world, () => Number(process.hrtime.bigint()) / 1e6);
  const clock = randomDriftingClock(world, { trueNow });
  const r = await cristian(world, {}, clock);
  if (r.best)
    console.log(
      `offset ${r.best.offsetMs >= 0 ? '+' : ''}${r.best.offsetMs.toFixed(3)} ms, rtt ${r.best.rttMs.toFixed(3)} ms, error ±${r.best.errorMs.toFixed(3)} ms`,
    );
  const reports = await world.gather(r.report);
  if (world.rank === 0 && !printSkew(reports!)) process.exitCode = 1;
});
