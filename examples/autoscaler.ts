// The autoscaler of exercise 7 (book 8.4.1; docs/algorithms/autoscaler.md): a job that stays up and
// grows or shrinks its worker pool with the load, one worker at a time.
//
//   npx dsrun -n 1 examples/autoscaler.ts                       # this host's CPU (/proc/stat)
//   npx dsrun -n 1 examples/autoscaler.ts --load 90,90,90,50,10,10,10,10 --tasks 40
//
// Options: --tasks N (default 60), --task-ms MS (50), --sample-ms MS (200), --max N (6), --min N (1),
// --load a,b,c (synthetic load in %, the last value repeats; the run lasts at least that many samples).
import { DsError, ErrorCode, run } from 'dsmpi';
import { runManager, runWorker } from '../algorithms/autoscaler/autoscaler.ts';
import { hostCpuSampler, scriptedSampler } from '../algorithms/autoscaler/load-sampler.ts';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
};
const taskMs = Number(arg('task-ms', '50'));
if (!(taskMs >= 0)) throw new DsError(ErrorCode.InvalidArgument, `--task-ms must be a number of ms >= 0, got '${arg('task-ms', '')}'`);

await run(async (world) => {
  if (world.parent) {
    // A worker: each task is a spell of busy waiting on the clock (the synthetic workload).
    return runWorker(world, async (task) => {
      await world.clock.sleep(taskMs);
      return (task.payload as number) * 2;
    });
  }
  if (world.rank !== 0) return;
  const script = arg('load', '');
  const load = script ? script.split(',').map(Number) : undefined;
  if (load?.some((x) => !Number.isFinite(x)))
    throw new DsError(ErrorCode.InvalidArgument, `--load must be numbers separated by commas, got '${script}'`);
  const report = await runManager(world, {
    tasks: Array.from({ length: Number(arg('tasks', '60')) }, (_, i) => i),
    sampler: load ? scriptedSampler(load) : hostCpuSampler(),
    sampleMs: Number(arg('sample-ms', '200')),
    minSamples: load?.length,
    policy: {
      minWorkers: Number(arg('min', '1')),
      maxWorkers: Number(arg('max', '6')),
    },
  });
  const perWorker = new Map<number, number>();
  for (const c of report.completions) perWorker.set(c.worker, (perWorker.get(c.worker) ?? 0) + 1);
  console.log(
    `tasks done=${report.completions.length} duplicates=${report.duplicates.length} spawned=${report.spawned.join(',')} ` +
      `retired=${report.retired.join(',')} peak=${report.peak}`,
  );
  console.log(`per worker: ${[...perWorker].map(([w, k]) => `${w}:${k}`).join(' ')}`);
});
