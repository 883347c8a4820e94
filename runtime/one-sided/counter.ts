import type { CollectiveState } from '../collectives.ts';
import { DsError, ErrorCode } from '../errors.ts';
import { Request } from '../request.ts';
import { createWindow, type Window } from './window.ts';

export type CounterOp = 'sum' | 'max' | 'min' | 'replace';

export interface CounterOptions {
  /** Rank that hosts the counter (default 0). */
  root?: number;
  /** Initial value (default 0). */
  initial?: number;
}

const COUNTER_OPS: readonly string[] = ['sum', 'max', 'min', 'replace'];

/**
 * A number hosted by one rank that every member updates atomically without the host's program
 * taking part: the shared variable done right (like mpi4py's util.sync.Counter). A window of one slot.
 */
export class Counter {
  private readonly window: Window<number>;

  /** @internal use comm.counter(). */
  constructor(window: Window<number>) {
    this.window = window;
  }

  get root(): number {
    return this.window.root;
  }

  /** Atomically applies `op` with `value` and returns the value before (default: add). */
  fetchAndOp(value: number, op: CounterOp = 'sum'): Request<number> {
    const what = `counter.fetchAndOp(${String(value)}, '${String(op)}')`;
    if (!COUNTER_OPS.includes(op)) {
      throw new DsError(ErrorCode.InvalidArgument, `${what}: unknown op; use 'sum', 'max', 'min' or 'replace'`);
    }
    checkNumber(value, what);
    return this.window.fetchAndOp(0, value, op);
  }

  /** The current value. */
  get(): Request<number> {
    return this.window.get(0);
  }

  /** Atomically sets the value to `desired` if it is `expected`; returns the value before. */
  compareAndSwap(expected: number, desired: number): Request<number> {
    const what = `counter.compareAndSwap(${String(expected)}, ${String(desired)})`;
    checkNumber(expected, what);
    checkNumber(desired, what);
    return this.window.compareAndSwap(0, expected, desired);
  }

  /** Collective: completes this rank's operations, then the host drops the counter. */
  free(): Promise<void> {
    return this.window.free();
  }
}

function checkNumber(value: unknown, what: string): void {
  if (typeof value !== 'number') throw new DsError(ErrorCode.InvalidArgument, `${what}: the counter holds numbers`);
}

/** Collective: creates a counter hosted by `root`. */
export function createCounter(collective: CollectiveState, options: CounterOptions = {}): Request<Counter> {
  const what = 'counter()';
  if (options.initial !== undefined) checkNumber(options.initial, what);
  const created = createWindow<number>(collective, { root: options.root, length: 1, initial: options.initial ?? 0 }, what);
  // Wrap without a second collective: same sequence number, same completion.
  return mapRequest(created, (w) => new Counter(w));
}

function mapRequest<A, B>(request: Request<A>, f: (a: A) => B): Request<B> {
  const out = new Request<B>(request.description, request.startedAt);
  request.then(
    (a) => out.resolve(f(a)),
    (err: unknown) => out.reject(err),
  );
  return out;
}
