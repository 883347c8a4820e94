// Large messages: two ranks exchange `mib` MiB Uint8Arrays `rounds` times (after one warm-up
// exchange), each receiving into a buffer of its own. Rank 0 prints GB/s per direction and each
// rank's peak RSS over the message size.
//   dsrun -n 2 bench/programs/large-exchange.ts <mib> <rounds>
import { run } from 'dsmpi';

await run(async (world) => {
  const size = Number(process.argv[2] ?? 256) * 2 ** 20;
  const rounds = Number(process.argv[3] ?? 5);
  const peer = 1 - world.rank;
  const out = new Uint8Array(size).fill(world.rank + 1);
  const into = new Uint8Array(size);
  const exchange = async (): Promise<void> => {
    const [, got] = await Promise.all([world.send(out, peer, 0), world.recv<Uint8Array>(peer, 0, { into })]);
    if (got.data.length !== size || got.data[size - 1] !== peer + 1) throw new Error('exchange: wrong data');
  };
  await exchange();
  const start = performance.now();
  for (let r = 0; r < rounds; r++) await exchange();
  const seconds = (performance.now() - start) / 1000;
  const rssRatio = (process.resourceUsage().maxRSS * 1024) / size;
  if (world.rank === 1) return world.send(rssRatio, 0, 1);
  const other = (await world.recv<number>(1, 1)).data;
  console.log(JSON.stringify({ gbPerSec: (size * rounds) / seconds / 1e9, rssRatio0: rssRatio, rssRatio1: other }));
});
