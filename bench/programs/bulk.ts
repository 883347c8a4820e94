// dsmpi bulk throughput: rank 0 sends N messages of 1 MiB of bytes to rank 1, which acknowledges the
// last; rank 0 prints MiB per second as JSON.
import { run } from 'dsmpi';

await run(async (world) => {
  const count = Number(process.argv[2] ?? 200);
  const payload = new Uint8Array(1024 * 1024).fill(7);
  // One exchange first, so the connection is open before the clock starts.
  if (world.rank < 2) await world.sendrecv('warm-up', 1 - world.rank, 2, 1 - world.rank, 2);
  if (world.rank === 0) {
    const start = performance.now();
    for (let i = 0; i < count; i++) await world.send(payload, 1);
    await world.recv(1, 1);
    console.log(JSON.stringify({ mibPerSec: count / ((performance.now() - start) / 1000) }));
  } else if (world.rank === 1) {
    for (let i = 0; i < count; i++) await world.recv(0, 0);
    await world.send('ack', 0, 1);
  }
});
