// Ranks 0 and 1 bounce a small object back and forth and rank 0 prints the median round trip.
// Usage: dsrun -n 2 examples/pingpong.ts [iterations]
import { run } from 'dsmpi';
import { intArg } from './lib/args.ts';

await run(async (world) => {
  if (world.size < 2) throw new Error('pingpong needs at least 2 ranks');
  const iterations = intArg(1, 'iterations', 10_000, 1);
  const warmup = Math.min(1000, iterations);
  if (world.rank === 0) {
    const rtts: number[] = [];
    for (let i = 0; i < warmup + iterations; i++) {
      const start = world.clock.now();
      await world.send({ tag: 'accept', value: 123456789, round: i }, 1);
      await world.recv(1);
      if (i >= warmup) rtts.push(world.clock.now() - start);
    }
    rtts.sort((a, b) => a - b);
    const median = rtts[Math.floor(rtts.length / 2)] * 1000;
    console.log(`${iterations} round trips, median ${median.toFixed(1)} µs`);
  } else if (world.rank === 1) {
    for (let i = 0; i < warmup + iterations; i++) {
      const m = await world.recv(0);
      await world.send({ ...(m.data as object), round: i }, 0);
    }
  }
});
