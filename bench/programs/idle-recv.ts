// The CPU an idle rank uses: rank 1 waits in a receive while rank 0 sleeps `seconds`, then sends;
// rank 1 prints the CPU time its process used during the wait as a share of the wall time (JSON).
import { run } from 'dsmpi';

const seconds = Number(process.argv[2] ?? 10);

await run(async (world) => {
  await world.barrier();
  if (world.rank === 0) {
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    await world.send('wake up', 1);
  } else if (world.rank === 1) {
    const cpu = process.cpuUsage();
    const start = performance.now();
    await world.recv(0);
    const used = process.cpuUsage(cpu);
    const wallMs = performance.now() - start;
    console.log(JSON.stringify({ cpuShare: (used.user + used.system) / 1000 / wallMs, wallMs, poll: process.env.DSMPI_POLL }));
  }
});
