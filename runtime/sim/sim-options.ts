import type { Communicator } from '../communicator.ts';
import { DsError, ErrorCode } from '../errors.ts';
import type { FaultOptions } from './faults.ts';
import type { EventChooser } from './scheduler.ts';

export interface SimulateOptions {
  /** Number of ranks. */
  n: number;
  /** Decides everything: delivery order, latencies, random faults, every rank's comm.random(). */
  seed: number;
  faults?: FaultOptions;
  /** Fail the run past this much virtual time (default 600 000 ms, ten minutes). */
  timeLimitMs?: number;
  /** Fail the run after this many events (default 2 000 000): catches zero-time livelock. */
  maxSteps?: number;
  /** Also write the trace as JSONL to this path when the run ends, failed or not. */
  trace?: string;
  maxPayload?: number;
  /** Bytes of one sender's unmatched point-to-point messages a rank keeps before holding it back (default 64 MiB). */
  recvBufferBytes?: number;
  /**
   * What an error thrown by a rank's program does: 'fail' (default) ends the run with it, as an
   * uncaught error aborts a real job; 'record' keeps it in `errors` and lets the others go on.
   */
  rankErrors?: 'fail' | 'record';
  /** Programs that comm.spawn(n, { program: name }) can start (docs/dynamic-processes.md); default: `main`. */
  programs?: Record<string, (comm: Communicator) => unknown>;
  /** Picks each next event instead of the earliest (systematic exploration, explore.ts). */
  chooser?: EventChooser;
  /**
   * Each rank keeps its own clock (an event runs at the later of its time and its rank's clock) and
   * each link draws its latencies from its own stream, so events of different ranks commute exactly
   * whatever order a chooser takes them in (explore.ts). Runs in time order are the same either way.
   */
  rankClocks?: boolean;
  /**
   * Called after every event, once the ranks have reacted to it: an error it throws fails the run
   * with DS_ERR_INVARIANT (a property that must always hold).
   */
  afterEvent?: () => void;
  /**
   * Faults an explorer chooses as the run goes (explore.ts): `ready` receives, before the ranks
   * start, the means to inject them. `restarts`: whether its crashes restart ranks (the engine then
   * does without flow control, as with the crash-recovery of `faults`).
   */
  injectFaults?: { restarts: boolean; ready(injector: FaultInjector): void };
}

/** What an explorer may do to a run between two events, besides choosing the next one. */
export interface FaultInjector {
  /** Whether `rank` runs its program (alive and not finished): a crash would change something. */
  running(rank: number): boolean;
  /** Crashes `rank` now: for good without `restartAfterUs`, else it restarts that much later. */
  crash(rank: number, restartAfterUs: number | undefined): void;
  /** Whether a partition in force now stops messages from `from` to `to`. */
  cut(from: number, to: number): boolean;
  /** Cuts `from` from `to` now (only that way if `oneWay`), healing `forUs` later (never if Infinity). */
  partition(from: number[], to: number[], oneWay: boolean, forUs: number): void;
  /** Whether `rank` is paused now (its timers and deliveries wait). */
  paused(rank: number): boolean;
  /** Pauses `rank` now, resuming it `forUs` later. */
  pause(rank: number, forUs: number): void;
}

/** The options of a run, checked, with their defaults filled in. */
export interface SimSettings extends SimulateOptions {
  timeLimitMs: number;
  maxSteps: number;
  faults: FaultOptions;
}

/** Checks `options` (DS_ERR_INVALID_ARGUMENT) and fills in the defaults. */
export function simSettings(options: SimulateOptions): SimSettings {
  const { n, seed } = options;
  if (!Number.isInteger(n) || n < 1) invalid(`n must be an integer >= 1, got ${String(n)}`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) invalid(`seed must be an integer 0..2^32-1, got ${String(seed)}`);
  const timeLimitMs = options.timeLimitMs ?? 600_000;
  if (!(timeLimitMs > 0)) invalid(`timeLimitMs must be > 0, got ${String(timeLimitMs)}`);
  return { ...options, timeLimitMs, maxSteps: options.maxSteps ?? 2_000_000, faults: options.faults ?? {} };
}

function invalid(message: string): never {
  throw new DsError(ErrorCode.InvalidArgument, `simulate: ${message}`);
}
