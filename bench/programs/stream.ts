// dsmpi one-way streaming: rank 0 isends N small objects to rank 1, which receives every one and
// acknowledges the last; rank 0 prints messages per second as JSON.
import { run } from 'dsmpi';
import { smallMessage } from '../stats.ts';

await run(async (world) => {
  const count = Number(process.argv[2] ?? 200000);
  // One exchange first, so the connection is open before the clock starts (as in the raw baseline).
  if (world.rank < 2) await world.sendrecv('warm-up', 1 - world.rank, 2, 1 - world.rank, 2);
  if (world.rank === 0) {
    const start = performance.now();
    for (let i = 0; i < count; i++) {
      const req = world.isend(smallMessage(i), 1);
      if (!req.done) await req; // held by backpressure
    }
    await world.recv(1, 1);
    console.log(JSON.stringify({ msgsPerSec: count / ((performance.now() - start) / 1000) }));
  } else if (world.rank === 1) {
    for (let i = 0; i < count; i++) {
      const m = await world.recv<{ round: number }>(0, 0);
      if (m.data.round !== i) throw new Error(`out of order: ${m.data.round} != ${i}`);
    }
    await world.send('ack', 0, 1);
  }
});
