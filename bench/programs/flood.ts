// Flow control under a flood: rank 0 sends N small messages to rank 1 as fast as send() lets it.
// 'slow': rank 1 starts receiving only after 2 s, then pauses 1 ms every 20 000 messages, so the
// sender is held at the receive buffer's bound; 'keep': rank 1 receives from the start. Rank 1
// checks that every message arrives in order; rank 0 prints messages/s and rank 1's peak RSS (MiB).
//   dsrun -n 2 [--recv-buffer BYTES] bench/programs/flood.ts <N> slow|keep
import { run } from 'dsmpi';
import { smallMessage } from '../stats.ts';

await run(async (world) => {
  const count = Number(process.argv[2] ?? 1_000_000);
  const slow = process.argv[3] === 'slow';
  await world.sendrecv('warm-up', 1 - world.rank, 2, 1 - world.rank, 2);
  if (world.rank === 0) {
    const start = performance.now();
    for (let i = 0; i < count; i++) await world.send(smallMessage(i), 1);
    const { data } = await world.recv<{ peakRssMiB: number; heldMiB: number }>(1, 1);
    const seconds = (performance.now() - start) / 1000;
    console.log(JSON.stringify({ msgsPerSec: count / seconds, ...data }));
    return;
  }
  let heldMiB = 0;
  if (slow) {
    await world.clock.sleep(2000);
    heldMiB = world.engine.bufferedBytes() / 2 ** 20;
  }
  for (let i = 0; i < count; i++) {
    const m = await world.recv<{ round: number }>(0, 0);
    if (m.data.round !== i) throw new Error(`out of order: ${m.data.round} != ${i}`);
    if (slow && i % 20_000 === 0) await world.clock.sleep(1);
  }
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  await world.send({ peakRssMiB, heldMiB }, 0, 1);
});
