import { createRequire } from 'node:module';
import { Env } from '../protocol/rendezvous.ts';

/**
 * What dsrun handed this rank when it runs as a thread (the Worker's `workerData`:
 * launcher/thread-ranks.ts), else undefined. The environment tells a rank thread (dsrun sets
 * Env.thread for it), so a rank process does not load node:worker_threads only to learn that it is
 * not one: 3–5 ms of CPU at every start.
 */
export function threadRankData(): Record<string, unknown> | undefined {
  if (process.env[Env.thread] !== '1') return undefined;
  const { isMainThread, workerData } = createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads');
  return isMainThread ? undefined : (workerData as Record<string, unknown> | undefined);
}
