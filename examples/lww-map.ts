// The LWW map and the distributed hashmap (book 5.2 lww-map and lamport1-majority-voting8).
// Every rank holds a replica; writes are stamped (Lamport time, rank), ties broken by rank.
//   - the book's script: rank 0 puts a and b, rank 1 puts a and deletes b, ranks 2 and 3 put c;
//   - every rank proposes its own (seeded) value for KEN.
// Replicas converge by anti-entropy; then each rank does a majority read of KEN and dist.
// Every rank's last line is its final map as JSON, keys sorted: the same on every rank.
// Usage: dsrun -n 4 examples/lww-map.ts
import { run } from 'dsmpi';
import { ReplicatedMap, majorityRead, serveReads } from '../algorithms/crdt/replicated-map.ts';

await run(async (world) => {
  const r = world.rank;
  const map = new ReplicatedMap<string | number>(r);
  if (r === 0) {
    map.put('a', 'v1@r0');
    map.put('b', 'v1@r0');
  } else if (r === 1) {
    map.put('a', 'v2@r1');
    map.delete('b');
  } else if (r === 2) map.put('c', 'v1@r2');
  else if (r === 3) map.put('c', 'v2@r3');
  const proposal = 1 + Math.floor(world.random() * 100);
  const stamp = map.put('KEN', proposal);
  console.log(`rank ${r} proposes KEN=${proposal} at (${stamp.ts}, ${stamp.node})`);

  const sync = await map.sync(world);
  if (!sync.converged) throw new Error(`rank ${r}: anti-entropy did not converge in ${sync.rounds} rounds`);
  const ken = map.entry('KEN')!;
  console.log(`rank ${r} latest agreed key: KEN, value: ${ken.value} (stamp ${ken.ts}, rank ${ken.node})`);
  for (const [k, e] of Object.entries(map.state).sort(([x], [y]) => (x < y ? -1 : 1))) {
    if (!e.tomb) console.log(`rank ${r}   ${k} => ${e.value}  (ts=${e.ts}, node=${e.node})`);
  }

  const server = serveReads(world, map);
  for (const key of ['KEN', 'dist']) {
    const read = await majorityRead(world, map, key);
    console.log(
      read.value === undefined
        ? `rank ${r} majority read: ${key} has no value (${read.replies} replies)`
        : `rank ${r} majority read: ${key} = ${read.value} (${read.replies} replies)`,
    );
  }
  await world.barrier(); // everyone's reads are answered: stop serving
  server.stop();
  await server.done;
  console.log(`rank ${r} final map ${JSON.stringify(map.visible())}`);
});
