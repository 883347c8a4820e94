// Push gossip: rank 0 knows a rumour; each round every rank that knows it tells one random peer.
// Usage: dsrun -n 16 examples/gossip.ts   (docs/algorithms/gossip.md)
import { run } from 'dsmpi';
import { expectedGossipRounds, gossip } from '../algorithms/classic/gossip.ts';

await run(async (world) => {
  const r = await gossip(world);
  if (world.rank !== 0) return;
  console.log(`informed after each round: ${r.informedPerRound.join(' ')}`);
  console.log(
    `rounds to reach all ${world.size}: ${r.rounds} (log2 N = ${Math.log2(world.size).toFixed(1)}, log2 N + ln N = ${expectedGossipRounds(world.size).toFixed(1)})`,
  );
  const ok = r.informedPerRound[r.rounds] === world.size;
  console.log(`CHECK everyone informed: ${ok ? 'OK' : 'FAIL'}`);
});
