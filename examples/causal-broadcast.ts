// Causal broadcast with vector clocks: rank 0 asks "Lunch?", the others answer and chat; no rank
// sees an answer before the question. Usage: dsrun -n 3 examples/causal-broadcast.ts
// (docs/algorithms/causal-broadcast.md)
import { run } from 'dsmpi';
import { causalBroadcast, causalViolation } from '../algorithms/classic/causal-broadcast.ts';

await run(async (world) => {
  const r = await causalBroadcast(world, { count: 2 });
  console.log(`delivered ${r.delivered.map((m) => `${m.text}(${m.sender})`).join(', ')}`);
  const bad = await world.allreduce(causalViolation(r.delivered) ? 1 : 0, 'sum');
  if (world.rank === 0) console.log(`CHECK causal order at every rank: ${bad === 0 ? 'OK' : 'FAIL'}`);
  if (bad !== 0) process.exitCode = 1;
});
