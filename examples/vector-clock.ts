// The book's vector clock scenario (3.2.2): the same three processes as the Lamport example; every
// rank prints each of its events with its vector timestamp, then rank 0 prints, for a few pairs of
// events, whether one happened before the other or they are concurrent.
// Usage: dsrun -n 3 examples/vector-clock.ts   (any n: see docs/algorithms/vector-clock.md)
import { run } from 'dsmpi';
import { VectorClock, compareVectors, type VectorTime } from '../algorithms/clocks/vector-clock.ts';
import { messageName, processName, runScenario } from '../algorithms/clocks/scenario.ts';

const fmt = (v: VectorTime): string => `[${v.join(', ')}]`;

await run(async (world) => {
  const name = processName(world.rank, world.size);
  const events = await runScenario(world, new VectorClock(world.rank, world.size));
  for (const e of events) console.log(`${name} ${e.label} VC=${fmt(e.time)}`);
  const all = await world.gather(events.map((e) => [e.label, e.time] as [string, VectorTime]));
  if (world.rank === 0) {
    const at = (r: number, label: string): VectorTime => all![r].find(([l]) => l === label)![1];
    const who = (r: number, label: string): string => `${processName(r, world.size)}.${label}`;
    const pairs: Array<[number, string, number, string]> = [];
    const last = world.size - 1;
    // Along the chain: each send before its receive; the sender's later event C concurrent with it.
    for (let r = 0; r < last; r++) {
      const msg = messageName(r);
      pairs.push([r, `Send(${msg})`, r + 1, `Recv(${msg})`], [r, 'C', r + 1, `Recv(${msg})`]);
    }
    if (last > 0) pairs.push([0, 'A', last, 'A'], [0, 'A', last, 'C']);
    if (last === 0) pairs.push([0, 'Send(m)', 0, 'Recv(m)']);
    for (const [ra, la, rb, lb] of pairs) {
      const a = at(ra, la);
      const b = at(rb, lb);
      const c = compareVectors(a, b);
      const rel = c === 'before' ? 'happened before' : c === 'after' ? 'happened after' : c === 'equal' ? 'equals' : 'is concurrent with';
      console.log(`${who(ra, la)} ${fmt(a)} ${rel} ${who(rb, lb)} ${fmt(b)}`);
    }
  }
});
