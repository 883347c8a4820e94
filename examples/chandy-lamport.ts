// Chandy-Lamport snapshot of a bank: each rank starts with 100 and sends random transfers while rank
// 0 takes a snapshot; the snapshot must show all the money, on a consistent cut.
// Usage: dsrun -n 5 examples/chandy-lamport.ts   (docs/algorithms/chandy-lamport.md)
import { run } from 'dsmpi';
import { checkCut } from '../algorithms/classic/consistent-cut.ts';
import { chandyLamport, snapshotTotal } from '../algorithms/classic/chandy-lamport.ts';

await run(async (world) => {
  const r = await chandyLamport(world, { initialBalance: 100, transfers: 20 });
  const inFlight = r.channels.flat();
  console.log(
    `recorded balance ${r.recordedBalance}, in flight to me ${inFlight.reduce((s, t) => s + t.amount, 0)} (${inFlight.length} transfers)`,
  );
  const all = await world.gather(r);
  if (world.rank !== 0) return;
  const total = 100 * world.size;
  const shown = snapshotTotal(all!);
  const cut = checkCut(
    all!.map((x) => x.events),
    all!.map((x) => x.cutIndex),
  );
  const recorded = all!.flatMap((x) => x.channels.flat().map((t) => t.id)).sort();
  const exact = JSON.stringify(recorded) === JSON.stringify(cut.inTransit.map((m) => m.id));
  console.log(`CHECK conservation ${total}: ${shown === total ? 'OK' : `FAIL (${shown})`}`);
  console.log(`CHECK consistent cut: ${cut.consistent ? 'OK' : 'FAIL'}`);
  console.log(`CHECK channel states = messages in flight across the cut: ${exact ? 'OK' : 'FAIL'}`);
  if (shown !== total || !cut.consistent || !exact) process.exitCode = 1;
});
