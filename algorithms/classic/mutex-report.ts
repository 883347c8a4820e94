/**
 * What the mutual-exclusion examples print: the safety check (a shared occupancy counter, since under
 * dsrun the ranks' clocks cannot be compared), entries made, and messages per entry.
 */
import type { Communicator } from 'dsmpi';
import { mergeCounts, sumCounts, type MutexOptions, type MutexResult } from './common.ts';

/**
 * Runs `algorithm` with hooks that count occupants on a counter hosted by rank 0: a rank that enters
 * while the counter is not 0 is a violation. Rank 0 prints the report; returns the merged results.
 */
export async function runMutexExample(
  world: Communicator,
  name: string,
  algorithm: (comm: Communicator, o: MutexOptions) => Promise<MutexResult>,
  options: MutexOptions,
  formula: (entries: number, messages: number) => string,
): Promise<void> {
  const occupancy = await world.counter({ root: 0, initial: 0 });
  let violations = 0;
  const r = await algorithm(world, {
    ...options,
    onEnter: async () => {
      if ((await occupancy.fetchAndOp(1)) !== 0) violations++;
    },
    onExit: async () => {
      await occupancy.fetchAndOp(-1);
    },
  });
  const all = await world.gather({ entries: r.intervals.length, sent: r.sent, violations });
  await occupancy.free();
  if (world.rank !== 0) return;
  const entries = all!.reduce((s, x) => s + x.entries, 0);
  const counts = mergeCounts(all!.map((x) => x.sent));
  const messages = sumCounts(counts);
  const bad = all!.reduce((s, x) => s + x.violations, 0);
  console.log(`${name}: ${world.size} ranks, ${entries} entries`);
  console.log(
    `messages: ${messages} (${Object.entries(counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')})`,
  );
  console.log(formula(entries, messages));
  console.log(`CHECK never two in the critical section: ${bad === 0 ? 'OK' : `FAIL (${bad} entries found it occupied)`}`);
  if (bad !== 0) process.exitCode = 1;
}
