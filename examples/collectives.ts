// Every collective once: barrier, bcast, scatter, gather, allgather, reduce, allreduce, alltoall,
// scan, exscan, a split into even and odd ranks, and a shared counter. Each rank prints one line:
// "results <JSON>" of what it computed (undefined results print as null).
// Usage: dsrun -n 4 examples/collectives.ts
import { run } from 'dsmpi';

await run(async (world) => {
  const { rank, size } = world;

  // The barrier: every rank counts itself in on a shared counter, then waits at the barrier; once
  // past it, each reads the count, which is the size only if nobody left before all had arrived.
  const counter = await world.counter({ root: 0 });
  const ticket = await counter.fetchAndOp(1, 'sum');
  await world.barrier();
  const arrived = await counter.get();
  const bcast = await world.bcast<{ answer: number } | undefined>(rank === 0 ? { answer: 42 } : undefined, 0);
  const scatter = await world.scatter(rank === 0 ? Array.from({ length: size }, (_, i) => i * 10) : undefined, 0);
  const gather = await world.gather(rank * rank, 0);
  const allgather = await world.allgather(rank + 1);
  const reduce = await world.reduce(rank + 1, 'sum', 0);
  const allreduce = await world.allreduce(rank, 'max');
  const alltoall = await world.alltoall(Array.from({ length: size }, (_, j) => rank * 100 + j));
  const scan = await world.scan(rank + 1, 'sum');
  const exscan = await world.exscan(rank + 1, 'sum');

  const half = (await world.split(rank % 2, rank))!;
  const split = {
    color: rank % 2,
    rank: half.rank,
    size: half.size,
    sum: await half.allreduce(rank, 'sum'),
  };
  half.free();

  await counter.free();

  const results = {
    rank,
    size,
    barrier: { arrived },
    bcast: bcast?.answer,
    scatter,
    gather: gather ?? null,
    allgather,
    reduce: reduce ?? null,
    allreduce,
    alltoall,
    scan,
    exscan: exscan ?? null,
    split,
    counter: { ticket },
  };
  console.log(`results ${JSON.stringify(results)}`);
});
