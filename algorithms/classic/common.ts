/**
 * Small helpers the classic algorithms share: a counted, fire-and-forget send; the critical-section
 * record every mutual-exclusion algorithm keeps; and the checker that finds overlapping sections.
 */
import { ErrorCode, isDsError, type Communicator } from 'dsmpi';

/** Messages sent by one rank, by the algorithm's tag names. */
export type SentCounts = Record<string, number>;

/**
 * A sender that counts what it sends by tag name (the algorithm's own message vocabulary) and never
 * throws for a peer that is gone: a crashed peer is what the fault-tolerant algorithms expect.
 */
export class Net {
  readonly sent: SentCounts = {};
  private readonly names = new Map<number, string>();

  constructor(
    readonly comm: Communicator,
    tags: Record<string, number>,
  ) {
    for (const [name, tag] of Object.entries(tags)) {
      this.names.set(tag, name);
      this.sent[name] = 0;
    }
  }

  /** Sends `data` to `to` without waiting; counts it. */
  post(to: number, tag: number, data: unknown): void {
    const name = this.names.get(tag) ?? String(tag);
    this.sent[name] = (this.sent[name] ?? 0) + 1;
    if (this.comm.failed().includes(to)) return;
    this.comm.isend(data, to, tag).then(undefined, (err: unknown) => {
      if (!(isDsError(err) && (err.code === ErrorCode.PeerLost || err.code === ErrorCode.Closed))) throw err;
    });
  }

  /** Total messages sent. */
  total(): number {
    return sumCounts(this.sent);
  }
}

export function sumCounts(c: SentCounts): number {
  return Object.values(c).reduce((a, b) => a + b, 0);
}

/** Adds per-rank counts into one table. */
export function mergeCounts(all: readonly SentCounts[]): SentCounts {
  const out: SentCounts = {};
  for (const c of all) for (const [k, v] of Object.entries(c)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** One stay in the critical section, in `comm.clock` time. */
export interface CsInterval {
  rank: number;
  enterMs: number;
  exitMs: number;
}

/** What every mutual-exclusion run returns per rank. */
export interface MutexResult {
  rank: number;
  intervals: CsInterval[];
  sent: SentCounts;
}

/** Options of the common workload: each rank loops think → enter → hold → exit, `entries` times. */
export interface MutexOptions {
  /** Entries per rank (default 3). */
  entries?: number;
  /** Time in the critical section (default 1 ms). */
  holdMs?: number;
  /** Longest random think time before each request (default 2 ms). */
  thinkMs?: number;
  /**
   * Called on entering and on leaving, e.g. to check occupancy with a shared counter under dsrun,
   * where ranks' clocks cannot be compared.
   */
  onEnter?: () => Promise<void> | void;
  onExit?: () => Promise<void> | void;
}

export function mutexDefaults(o: MutexOptions): Required<Omit<MutexOptions, 'onEnter' | 'onExit'>> {
  return { entries: o.entries ?? 3, holdMs: o.holdMs ?? 1, thinkMs: o.thinkMs ?? 2 };
}

/**
 * ME1 (safety): no two critical sections overlap. Returns the first overlapping pair, if any.
 * Meaningful only when all intervals come from one clock (the simulator's virtual time).
 */
export function findOverlap(intervals: readonly CsInterval[]): [CsInterval, CsInterval] | undefined {
  const sorted = [...intervals].sort((a, b) => a.enterMs - b.enterMs || a.exitMs - b.exitMs);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].enterMs < sorted[i - 1].exitMs) return [sorted[i - 1], sorted[i]];
  }
  return undefined;
}

/**
 * The shared critical section: runs the hooks around a stay of `holdMs` and records it. `enterMs` is
 * taken after `onEnter`, `exitMs` before `onExit`, so the recorded interval is inside the section.
 */
export async function criticalSection(comm: Communicator, o: MutexOptions, holdMs: number): Promise<CsInterval> {
  await o.onEnter?.();
  const enterMs = comm.clock.now();
  comm.note('enter');
  await comm.clock.sleep(holdMs);
  const exitMs = comm.clock.now();
  comm.note('leave');
  await o.onExit?.();
  return { rank: comm.rank, enterMs, exitMs };
}

/** A promise with its resolver outside (for waiting on replies a message loop collects). */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
