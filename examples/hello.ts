// Every rank says hello; rank 0 also prints the sum of all ranks, computed by passing messages.
import { run } from 'dsmpi';

await run(async (world) => {
  console.log(`hello from rank ${world.rank} of ${world.size}`);
  if (world.rank === 0) {
    let sum = 0;
    for (let i = 1; i < world.size; i++) sum += (await world.recv<number>(i)).data;
    console.log(`sum of ranks = ${sum}`);
  } else {
    await world.send(world.rank, 0);
  }
});
