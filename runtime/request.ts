import { DsError, ErrorCode } from './errors.ts';

/** What --timeout reports show of an operation still waiting. */
export interface PendingOperation {
  readonly description: string;
  readonly startedAt: number;
}

/** Something waiting for a value: a Request, or the bare promise callbacks of a blocking call. */
export interface Completion<T> extends PendingOperation {
  resolve(value: T): void;
  reject(error: unknown): void;
}

export type TestResult<T> = { done: true; value: T } | { done: false };

/**
 * An operation in progress (MPI_Request). Await it, or poll it with `test()`; `cancel()` withdraws
 * it if it has not completed. A request that fails and is never awaited raises no unhandled
 * rejection: the promise is made only when someone asks for it.
 */
export class Request<T> implements PromiseLike<T>, Completion<T> {
  /** What the operation is, e.g. `recv(source=2, tag=5)`: shown in --timeout reports. */
  readonly description: string;
  /** When it started, in the rank's clock milliseconds. */
  readonly startedAt: number;
  private state: 'pending' | 'done' | 'failed' = 'pending';
  private value: T | undefined;
  private error: unknown;
  private waiters: Array<[(v: T) => void, (e: unknown) => void]> = [];
  private canceller: (() => boolean) | undefined;

  constructor(description: string, startedAt: number, canceller?: () => boolean) {
    this.description = description;
    this.startedAt = startedAt;
    this.canceller = canceller;
  }

  static resolved<T>(description: string, now: number, value: T): Request<T> {
    const r = new Request<T>(description, now);
    r.resolve(value);
    return r;
  }

  get done(): boolean {
    return this.state !== 'pending';
  }

  /** Completes the request (runtime use). Later calls are ignored. */
  resolve(value: T): void {
    if (this.state !== 'pending') return;
    this.state = 'done';
    this.value = value;
    this.canceller = undefined;
    for (const [res] of this.waiters) res(value);
    this.waiters = [];
  }

  /** Fails the request (runtime use). Later calls are ignored. */
  reject(error: unknown): void {
    if (this.state !== 'pending') return;
    this.state = 'failed';
    this.error = error;
    this.canceller = undefined;
    for (const [, rej] of this.waiters) rej(error);
    this.waiters = [];
  }

  /** Non-blocking check (MPI_Test): the value if complete; throws the error if it failed. */
  test(): TestResult<T> {
    if (this.state === 'done') return { done: true, value: this.value as T };
    if (this.state === 'failed') throw this.error;
    return { done: false };
  }

  /**
   * Withdraws a pending request (MPI_Cancel); it then rejects with DS_ERR_CANCELLED. Returns false if
   * it had already completed or cannot be withdrawn (a send already handed to the network).
   */
  cancel(): boolean {
    if (this.state !== 'pending' || !this.canceller || !this.canceller()) return false;
    this.reject(new DsError(ErrorCode.Cancelled, `${this.description} was cancelled`));
    return true;
  }

  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.promise().then(onFulfilled, onRejected);
  }

  catch<R = never>(onRejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.promise().catch(onRejected);
  }

  finally(onFinally?: (() => void) | null): Promise<T> {
    return this.promise().finally(onFinally);
  }

  private promise(): Promise<T> {
    if (this.state === 'done') return Promise.resolve(this.value as T);
    if (this.state === 'failed') return Promise.reject(this.error);
    return new Promise<T>((res, rej) => this.waiters.push([res, rej]));
  }
}

/** Waits for every request (MPI_Waitall); rejects with the first failure. */
export function waitAll<T>(requests: Iterable<PromiseLike<T>>): Promise<T[]> {
  return Promise.all(requests);
}

/** Waits for the first request to complete (MPI_Waitany): its index and value. */
export function waitAny<T>(requests: ReadonlyArray<PromiseLike<T>>): Promise<{ index: number; value: T }> {
  if (requests.length === 0) {
    return Promise.reject(new DsError(ErrorCode.InvalidArgument, 'waitAny of no requests'));
  }
  return Promise.race(requests.map((r, index) => Promise.resolve(r).then((value) => ({ index, value }))));
}
