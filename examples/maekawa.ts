// Maekawa's voting-set mutual exclusion (grid voting sets), with Inquire/Failed/Relinquish so it
// cannot deadlock. Usage: dsrun -n 9 examples/maekawa.ts [entries]   (docs/algorithms/maekawa.md)
import { run } from 'dsmpi';
import { gridVotingSets, maekawa, maekawaMessagesPerEntry } from '../algorithms/classic/maekawa.ts';
import { runMutexExample } from '../algorithms/classic/mutex-report.ts';
import { intArg } from './lib/args.ts';

await run(async (world) => {
  const entries = intArg(1, 'entries per rank', 3);
  const sets = gridVotingSets(world.size);
  if (world.rank === 0) console.log(`voting sets: ${sets.map((s, i) => `V${i}={${s.join(',')}}`).join(' ')}`);
  const k = sets[0].length;
  await runMutexExample(
    world,
    'Maekawa',
    maekawa,
    { entries },
    (e, m) =>
      `messages per entry: ${(m / e).toFixed(1)} (uncontended 3(K-1) = ${maekawaMessagesPerEntry(k)} for K = ${k}; contention adds Inquire/Failed/Relinquish)`,
  );
});
