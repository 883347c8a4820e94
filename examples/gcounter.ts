// G-Counter CRDT (book 5.2, crdt-gcounter): rank r adds r+1 to its own slot; replicas converge by
// anti-entropy gossip. Every rank prints `Rank r sees global counter value = n(n+1)/2`. Gossip
// tolerates loss, so the example uses no collective: it runs under `dsrun --drop 0.2` as well.
// Usage: dsrun -n 4 examples/gcounter.ts
import { run } from 'dsmpi';
import { gossipUntilConverged } from '../algorithms/crdt/anti-entropy.ts';
import { gcounterCanonical, gcounterEmpty, gcounterIncrement, gcounterMerge, gcounterValue } from '../algorithms/crdt/gcounter.ts';

await run(async (world) => {
  const local = gcounterIncrement(gcounterEmpty(), world.rank, world.rank + 1);
  const gossip = await gossipUntilConverged(world, { merge: gcounterMerge, canonical: gcounterCanonical }, local);
  if (!gossip.converged) throw new Error(`rank ${world.rank}: gossip did not converge in ${gossip.rounds} rounds`);
  console.log(`Rank ${world.rank} gossip: ${gossip.rounds} rounds, state ${gcounterCanonical(gossip.state)}`);
  console.log(`Rank ${world.rank} sees global counter value = ${gcounterValue(gossip.state)}`);
});
