// A 3-rank pipeline (produce, double, sum) that survives the loss of its middle rank: revoke wakes
// every survivor, shrink() drops the dead rank, agree() decides to go on, and the sum is still right.
// Usage: dsrun -n 3 --kill 1@0.5s examples/resilient-pipeline.ts [items, default 40]
import { run } from 'dsmpi';
import { expectedSum, pipeline } from '../algorithms/resilient-pipeline.ts';
import { intArg } from './lib/args.ts';

const items = intArg(1, 'items', 40, 1);

await run(
  async (world) => {
    const report = await pipeline(world, { items, periodMs: 25 });
    if (world.rank !== 1 && report.sum !== undefined) {
      const check = report.sum === expectedSum(items) ? 'correct' : `WRONG, expected ${expectedSum(items)}`;
      console.log(`sum ${report.sum} (${check})${report.recovered ? ', recovered over the survivors' : ''}`);
    }
  },
  { surviveFailures: true },
);
