// What a collective costs the machine rather than the clock: CPU time and process wake-ups per call,
// summed over the ranks, with figures that a loaded machine disturbs far less than wall time. After a
// warm-up, each rank runs a loop of barriers alone, then loops of an op followed by a barrier (bcast
// of the small object from a turning root, allreduce of 8 numbers), as bench/programs/collectives.ts
// times them, and reads its own resource usage around each loop. An op's figures are its loop's
// minus the barrier loop's, per iteration: CPU µs of all ranks (user + system) and of rank 0,
// voluntary context switches (the rank slept in epoll and was woken), at rank 0 and at the others,
// and involuntary ones (preempted). Rank 0 prints one JSON object.
// Usage: dsrun -n N --quiet bench/programs/collective-wakeups.ts [iterations] [warm-up iterations]
import { run, type Communicator } from 'dsmpi';
import { smallMessage, usagePerIteration, wakeupFigures, type Usage } from '../stats.ts';

const iterations = Number(process.argv[2] ?? 2000);
const warmUp = Number(process.argv[3] ?? 3000);
for (const [name, v] of [
  ['iterations', iterations],
  ['warm-up iterations', warmUp],
] as const) {
  if (!(Number.isInteger(v) && v > 0)) throw new Error(`${name} must be a positive integer, got ${v}`);
}

await run(async (world) => {
  const vector = Array.from({ length: 8 }, (_, k) => world.rank + k);
  const ops: Record<string, (i: number) => Promise<unknown>> = {
    bcast: (i) => world.bcast(world.rank === i % world.size ? smallMessage(i) : undefined, i % world.size),
    allreduce: () => world.allreduce(vector, 'sum'),
  };
  for (let i = 0; i < warmUp; i++) {
    await world.barrier();
    for (const op of Object.values(ops)) await op(i);
  }
  const barrier = await usageOf(world, undefined);
  const withOps = [];
  for (const op of Object.values(ops)) withOps.push(await usageOf(world, op));
  const all = (await world.gather([barrier, ...withOps]))!;
  if (world.rank !== 0) return;
  // all[rank][loop] = Usage; loop 0 is the barrier alone.
  const out: Record<string, unknown> = { n: world.size, iterations, barrier: wakeupFigures(all, 0) };
  Object.keys(ops).forEach((name, i) => (out[name] = wakeupFigures(all, i + 1, 0)));
  console.log(JSON.stringify(out));
});

/** This rank's usage per iteration of a loop of barriers, each after `op` if given. */
async function usageOf(world: Communicator, op: ((i: number) => Promise<unknown>) | undefined): Promise<Usage> {
  await world.barrier();
  const before = process.resourceUsage();
  for (let i = 0; i < iterations; i++) {
    if (op) await op(i);
    await world.barrier();
  }
  return usagePerIteration(before, process.resourceUsage(), iterations);
}
