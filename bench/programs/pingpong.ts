// dsmpi send/recv ping-pong of the small object between ranks 0 and 1; rank 0 prints JSON.
import { run } from 'dsmpi';
import { median, smallMessage } from '../stats.ts';

await run(async (world) => {
  const count = Number(process.argv[2] ?? 20000);
  const warmup = 2000;
  if (world.rank === 0) {
    const rtts: number[] = [];
    for (let i = 0; i < warmup + count; i++) {
      const start = performance.now();
      await world.send(smallMessage(i), 1);
      await world.recv(1);
      if (i >= warmup) rtts.push(performance.now() - start);
    }
    console.log(JSON.stringify({ rttUs: median(rtts) * 1000 }));
  } else if (world.rank === 1) {
    for (let i = 0; i < warmup + count; i++) {
      const m = await world.recv<{ round: number }>(0);
      await world.send(smallMessage(m.data.round), 0);
    }
  }
});
