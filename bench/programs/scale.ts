// How dsmpi grows with n: time from dsrun's start to every rank's main (DSMPI_BENCH_T0, epoch ms, set
// by the bench), median barrier and allreduce (one number, sum) after a warm-up, and resident memory
// per rank (a threads job: the process's RSS over n; processes: the ranks' RSS summed, over n).
// Rank 0 prints JSON.
import { isMainThread } from 'node:worker_threads';
import { run } from 'dsmpi';
import { median } from '../stats.ts';

await run(async (world) => {
  const startedMs = Date.now() - Number(process.env.DSMPI_BENCH_T0 ?? Date.now());
  const iterations = Math.max(20, Math.round(2000 / world.size));
  const time = async (op: () => Promise<unknown>): Promise<number> => {
    for (let i = 0; i < 10; i++) await op();
    const samples: number[] = [];
    for (let i = 0; i < iterations; i++) {
      const t0 = performance.now();
      await op();
      samples.push(performance.now() - t0);
    }
    return median(samples) * 1000;
  };
  const barrierUs = await time(() => world.barrier());
  const allreduceUs = await time(() => world.allreduce(world.rank, 'sum'));
  const rss = process.memoryUsage().rss;
  const rssPerRank = isMainThread ? (await world.allreduce(rss, 'sum')) / world.size : rss / world.size;
  // Every rank's figure counts: the slowest rank's median is what the job waits for.
  const slowest = await world.allreduce([barrierUs, allreduceUs], 'max');
  if (world.rank === 0) {
    console.log(
      JSON.stringify({
        n: world.size,
        startUpMs: startedMs,
        barrierUs: slowest[0],
        allreduceUs: slowest[1],
        rssPerRankMiB: rssPerRank / 2 ** 20,
      }),
    );
  }
});
