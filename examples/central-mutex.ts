// Central-server mutual exclusion: rank 0 grants the critical section; every other rank enters it
// 3 times. Usage: dsrun -n 5 examples/central-mutex.ts [entries]   (docs/algorithms/central-mutex.md)
import { run } from 'dsmpi';
import { CENTRAL_MESSAGES_PER_ENTRY, centralMutex } from '../algorithms/classic/central-mutex.ts';
import { runMutexExample } from '../algorithms/classic/mutex-report.ts';
import { intArg } from './lib/args.ts';

await run(async (world) => {
  const entries = intArg(1, 'entries per rank', 3);
  await runMutexExample(world, 'central server', centralMutex, { entries }, (e, m) => {
    const ok = m === CENTRAL_MESSAGES_PER_ENTRY * e;
    return `CHECK messages per entry = ${m / e} (formula 3: Request + Grant + Release): ${ok ? 'OK' : 'FAIL'}`;
  });
});
