// Token-ring mutual exclusion: a token circulates 0 → 1 → … → N−1 → 0; only its holder enters.
// Usage: dsrun -n 5 examples/token-ring.ts [entries]   (docs/algorithms/token-ring.md)
import { run } from 'dsmpi';
import { tokenRing } from '../algorithms/classic/token-ring.ts';
import { runMutexExample } from '../algorithms/classic/mutex-report.ts';
import { intArg } from './lib/args.ts';

await run(async (world) => {
  const entries = intArg(1, 'entries per rank', 3);
  await runMutexExample(
    world,
    'token ring',
    tokenRing,
    { entries },
    (e, m) => `messages per entry: ${(m / e).toFixed(1)} (not bounded: the token moves while nobody wants it; it varies from run to run)`,
  );
});
