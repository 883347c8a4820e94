// The book's Lamport clock scenario (3.2.1): P1 sends m to P2, P2 sends n to P3; every rank prints
// each of its events with its Lamport timestamp, then rank 0 prints the whole run in order.
// Usage: dsrun -n 3 examples/lamport-clock.ts   (any n: see docs/algorithms/lamport-clock.md)
import { run } from 'dsmpi';
import { LamportClock } from '../algorithms/clocks/lamport-clock.ts';
import { processName, runScenario } from '../algorithms/clocks/scenario.ts';

await run(async (world) => {
  const name = processName(world.rank, world.size);
  const events = await runScenario(world, new LamportClock());
  for (const e of events) console.log(`${name} ${e.label} LP=${e.time}`);
  const all = await world.gather(events.map((e) => [e.label, e.time] as [string, number]));
  if (world.rank === 0) {
    const line = all!.map((evs, r) => `${processName(r, world.size)}: ${evs.map(([l, t]) => `${l}=${t}`).join(' ')}`);
    console.log(`timestamps ${line.join(' | ')}`);
  }
});
