import { performance } from 'node:perf_hooks';

/**
 * Time as a rank sees it. Algorithms use only this (never Date.now or setTimeout), so that the
 * simulator can swap in virtual time and replay a run exactly.
 */
export interface Clock {
  /** Milliseconds since an arbitrary origin, monotonic. */
  now(): number;
  /** Resolves after `ms` milliseconds. */
  sleep(ms: number): Promise<void>;
  /** Calls `fn` after `ms` milliseconds; the returned function cancels it. */
  setTimer(ms: number, fn: () => void): () => void;
}

/** Wall-clock time for real runs. Timers are unref'd: a pending timer alone never keeps a rank alive. */
export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
  setTimer(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(t);
  },
};
