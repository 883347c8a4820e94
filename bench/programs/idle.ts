// CPU spent while rank 1 waits `seconds` in a receive and rank 0 sleeps, then sends: a rank that
// polls must stop spinning soon and sleep. Rank 0 prints (JSON) the CPU time of its own process over
// the wait (with --threads: both ranks and dsrun; as processes: rank 0's, which sleeps), and the
// waiting rank's process CPU time and its share of one core over the wait.
//   dsrun -n 2 bench/programs/idle.ts [seconds]
import { run } from 'dsmpi';

await run(async (world) => {
  const seconds = Number(process.argv[2] ?? 10);
  await world.barrier();
  const before = process.cpuUsage();
  if (world.rank === 0) {
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    await world.send('wake', 1);
    const used = process.cpuUsage(before);
    const waiter = (await world.recv<{ cpuS: number; wallMs: number }>(1)).data;
    console.log(
      JSON.stringify({
        seconds,
        processCpuS: (used.user + used.system) / 1e6,
        waiterProcessCpuS: waiter.cpuS,
        waiterCpuShare: (waiter.cpuS * 1000) / waiter.wallMs,
        poll: process.env.DSMPI_POLL,
      }),
    );
  } else if (world.rank === 1) {
    const start = performance.now();
    await world.recv(0);
    const used = process.cpuUsage(before);
    await world.send({ cpuS: (used.user + used.system) / 1e6, wallMs: performance.now() - start }, 0);
  }
});
