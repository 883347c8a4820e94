/**
 * A role written as a state machine (DESIGN "Naming and files"): `step(state, input) → [state,
 * out[]]`, deterministic and free of I/O. serve.ts runs one on a communicator; a test may step it
 * by hand.
 *
 * Inputs carry the time (`nowMs`) and a fresh random draw (`random`), so a step never reads a clock
 * or a random source itself: given the same inputs it makes the same moves, in a unit test as in a
 * replayed simulation. A step updates `state` in place and returns it (as etcd raft's Step does).
 */
import type { DurableStorage } from 'dsmpi';
import type { FarewellSpec } from './farewell.ts';

/** A message a step wants sent. Sends to dead ranks are dropped silently (fire and forget). */
export interface Out {
  to: number;
  tag: number;
  data: unknown;
}

/**
 * Records a state change in the trace (`comm.note`): the loop passes it with every input, so a step
 * stays free of I/O and a unit test may leave it out. Costs nothing when the job is not traced.
 */
export type Note = (name: string, value?: unknown) => void;

export type Input =
  | { type: 'message'; source: number; tag: number; data: unknown; nowMs: number; random: number; note?: Note }
  /** Time passed: the loop calls this when `wakeAtMs(state)` is reached. `failed`: ranks the runtime reports lost. */
  | { type: 'tick'; nowMs: number; random: number; failed: readonly number[]; note?: Note };

export interface Machine<S> {
  step(state: S, input: Input): [S, Out[]];
  /** When the next tick is due (absolute, in `comm.clock` time); undefined: only messages wake it. */
  wakeAtMs(state: S): number | undefined;
  /** True once the role has finished: the loop returns its state. */
  done(state: S): boolean;
  /** Called after every step, before its messages go out (write-ahead, as acceptors need). */
  persist?(state: S, storage: DurableStorage): void;
  /**
   * A protocol that ends with an outcome every rank must learn: once `farewell.outcome(state)` is
   * defined, serve() announces it and ends the run with the farewell of farewell.ts (the machine
   * then only answers what it still must; `done` may stay false).
   */
  farewell?: FarewellSpec<S>;
}

/** Broadcast helper: the same message to each rank in `to`. */
export function toAll(to: Iterable<number>, tag: number, data: unknown): Out[] {
  const out: Out[] = [];
  for (const r of to) out.push({ to: r, tag, data });
  return out;
}

/** Ranks lo..hi-1. */
export function range(lo: number, hi: number): number[] {
  return Array.from({ length: Math.max(0, hi - lo) }, (_, i) => lo + i);
}

/** Every rank but `rank`. */
export function others(rank: number, size: number): number[] {
  return range(0, size).filter((r) => r !== rank);
}
