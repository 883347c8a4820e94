// Every rank says hello; rank 0 also prints the sum of all ranks, computed with an allreduce.
import { run } from 'dsmpi';

await run(async (world) => {
  console.log(`hello from rank ${world.rank} of ${world.size}`);
  const total = await world.allreduce(world.rank, 'sum');
  if (world.rank === 0) console.log(`sum of ranks = ${total}`);
});
