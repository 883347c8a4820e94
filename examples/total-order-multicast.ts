// Totally ordered multicast with Lamport clocks, on the notes' replicated bank: even ranks deposit
// $100, odd ranks add 1%; every replica applies them in the same order and ends with the same balance.
// Usage: dsrun -n 4 examples/total-order-multicast.ts   (docs/algorithms/total-order-multicast.md)
import { run } from 'dsmpi';
import { totalOrderMulticast } from '../algorithms/classic/total-order-multicast.ts';

await run(async (world) => {
  const r = await totalOrderMulticast(world, { count: 2 });
  const order = r.delivered.map((d) => `${d.ts}.${d.sender}`).join(' ');
  console.log(`delivered ${order} → balance ${r.balance}`);
  const all = await world.gather({ order, balance: r.balance });
  if (world.rank !== 0) return;
  const same = all!.every((x) => x.order === order && x.balance === r.balance);
  console.log(`CHECK same delivery order and balance at every rank: ${same ? 'OK' : 'FAIL'}`);
  if (!same) process.exitCode = 1;
});
