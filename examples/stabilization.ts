// Stabilization (book 4.4): rank r starts at 10r + a seeded random 0..9; every round each rank
// farther than 0.5 from the mean moves half way toward it, until every rank is stable. Then the
// last rank is knocked 50 away and the system pulls it back. Converges for any n.
// Usage: dsrun -n 4 examples/stabilization.ts
import { run } from 'dsmpi';
import { stabilize } from '../algorithms/stabilization.ts';

const f = (x: number): string => x.toFixed(2);

await run(async (world) => {
  const r = world.rank;
  const initial = 10 * r + Math.floor(world.random() * 10);
  console.log(`Process ${r}: Initial value = ${f(initial)}`);
  const result = await stabilize(world, initial, {
    perturb: { rank: world.size - 1, by: 50 },
    onRound: (s) => {
      if (s.phase === 2 && s.round === 1 && r === world.size - 1) console.log(`Process ${r}: perturbed to ${f(s.value)}`);
      console.log(
        s.adjusted
          ? `Process ${r}: Value adjusted to ${f(s.next)} (avg=${f(s.mean)}, diff=${f(s.diff)})`
          : `Process ${r}: Value stable at ${f(s.value)} (avg=${f(s.mean)}, diff=${f(s.diff)})`,
      );
    },
  });
  console.log(`Process ${r}: stable after ${result.rounds.join(' + ')} rounds`);
  console.log(`Process ${r}: Final value = ${f(result.final)} (mean ${f(result.mean)})`);
});
