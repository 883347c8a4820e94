// Ricart-Agrawala mutual exclusion: ask everyone with a Lamport timestamp, enter on N−1 Oks.
// Usage: dsrun -n 5 examples/ricart-agrawala.ts [entries]   (docs/algorithms/ricart-agrawala.md)
import { run } from 'dsmpi';
import { raMessagesPerEntry, ricartAgrawala } from '../algorithms/classic/ricart-agrawala.ts';
import { runMutexExample } from '../algorithms/classic/mutex-report.ts';
import { intArg } from './lib/args.ts';

await run(async (world) => {
  const entries = intArg(1, 'entries per rank', 3);
  const formula = raMessagesPerEntry(world.size);
  await runMutexExample(
    world,
    'Ricart-Agrawala',
    ricartAgrawala,
    { entries },
    (e, m) => `CHECK messages per entry = ${m / e} (formula 2(N-1) = ${formula}): ${m === formula * e ? 'OK' : 'FAIL'}`,
  );
});
