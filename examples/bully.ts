// The bully election, in the notes' scenario: the highest rank is down, the next one crashes before
// announcing itself, rank 0 notices; the highest live rank (N−3) wins. Needs N ≥ 3.
// Usage: dsrun -n 4 examples/bully.ts   (docs/algorithms/bully.md)
import { run } from 'dsmpi';
import { mergeCounts } from '../algorithms/classic/common.ts';
import { bully } from '../algorithms/classic/bully.ts';

await run(async (world) => {
  const n = world.size;
  const down = [n - 1];
  const crashBeforeAnnouncing = [n - 2];
  const r = await bully(world, { down, crashBeforeAnnouncing, answerTimeoutMs: 100 });
  console.log(r.leader === undefined ? 'crashed' : `leader = ${r.leader}`);
  const all = await world.gather(r);
  if (world.rank !== 0) return;
  const live = all!.filter((x) => !down.includes(x.rank) && !crashBeforeAnnouncing.includes(x.rank));
  const ok = live.every((x) => x.leader === n - 3);
  console.log(`CHECK every live rank chose ${n - 3}: ${ok ? 'OK' : 'FAIL'}`);
  const c = mergeCounts(all!.map((x) => x.sent));
  console.log(`messages: Election ${c.Election}, Answer ${c.Answer}, Coordinator ${c.Coordinator}`);
});
