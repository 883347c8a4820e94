import { barrierAlgo, type CollectiveState } from '../collectives.ts';
import type { CommScope } from '../comm-scope.ts';
import { DsError, ErrorCode } from '../errors.ts';
import { assertPlainData } from '../payload.ts';
import { isReduceOpName, REDUCE_OP_NAMES, type ReduceOpName } from '../reduce-ops.ts';
import type { Request } from '../request.ts';
import { HostedWindow } from './host.ts';
import { RmaCode, type RmaEndpoint } from './rma.ts';

/** How accumulate and fetchAndOp combine the slot with the value: a built-in op, or 'replace'. */
export type AccumulateOp = ReduceOpName | 'replace';

export type LockType = 'shared' | 'exclusive';

export interface WindowOptions<T> {
  /** Rank that hosts the slots (default 0). */
  root?: number;
  /** Number of slots. */
  length: number;
  /** Initial value of every slot (default 0). */
  initial?: T;
}

/**
 * Slots hosted by one rank (`root`) that every member reads and updates without the host's program
 * taking part (MPI_Win with passive and active target). See docs/one-sided.md for the guarantees.
 * Operations return awaitable requests; argument errors throw at once.
 */
export class Window<T = number> {
  readonly root: number;
  readonly length: number;
  private readonly comm: CommScope;
  private readonly collective: CollectiveState;
  private readonly id: number;
  private readonly endpoint: RmaEndpoint;
  private readonly hostRank: number;
  private lockHeld: LockType | undefined;
  private outstanding = 0;
  private idleWaiters: Array<() => void> = [];
  private freed = false;

  /** @internal use comm.window(). */
  constructor(collective: CollectiveState, id: number, root: number, length: number) {
    const comm = collective.scope;
    this.comm = comm;
    this.collective = collective;
    this.id = id;
    this.root = root;
    this.length = length;
    this.endpoint = comm.rankContext.rma;
    this.hostRank = comm.group[root];
  }

  /** The value of slot `i`. */
  get(i: number): Request<T> {
    return this.request(RmaCode.Get, [i], `get(${i})`);
  }

  /** Sets slot `i` to `value`. */
  put(i: number, value: T): Request<void> {
    return this.request(RmaCode.Put, [i, value], `put(${i})`);
  }

  /** Atomically sets slot `i` to `op(slot, value)` (MPI_Accumulate). */
  accumulate(i: number, value: T, op: AccumulateOp = 'sum'): Request<void> {
    const what = `accumulate(${i}, op=${String(op)})`;
    checkOp(op, what);
    return this.request(RmaCode.Accumulate, [i, value, op], what);
  }

  /** Atomically sets slot `i` to `op(slot, value)` and returns the value before (MPI_Fetch_and_op). */
  fetchAndOp(i: number, value: T, op: AccumulateOp = 'sum'): Request<T> {
    const what = `fetchAndOp(${i}, op=${String(op)})`;
    checkOp(op, what);
    return this.request(RmaCode.FetchAndOp, [i, value, op], what);
  }

  /** Atomically sets slot `i` to `desired` if it equals `expected`; returns the value before. */
  compareAndSwap(i: number, expected: T, desired: T): Request<T> {
    return this.request(RmaCode.CompareAndSwap, [i, expected, desired], `compareAndSwap(${i})`);
  }

  /**
   * Starts a passive-target epoch (MPI_Win_lock): resolves once the host grants the lock. While a
   * rank holds 'exclusive', no other rank's operation or lock is applied; 'shared' locks coexist and
   * only keep exclusive ones out. Locks are granted first come, first served.
   */
  lock(type: LockType = 'exclusive'): Request<void> {
    const what = `lock('${type}')`;
    if (type !== 'shared' && type !== 'exclusive') {
      throw new DsError(ErrorCode.InvalidArgument, `${what}: the lock type is 'shared' or 'exclusive'`);
    }
    if (this.lockHeld) {
      throw new DsError(ErrorCode.InvalidArgument, `${what}: this rank already holds or awaits a '${this.lockHeld}' lock; unlock() first`);
    }
    const request = this.request<void>(RmaCode.Lock, [type], what);
    this.lockHeld = type;
    return request;
  }

  /** Ends the epoch (MPI_Win_unlock): resolves once every earlier operation of this rank is applied. */
  unlock(): Request<void> {
    if (!this.lockHeld) throw new DsError(ErrorCode.InvalidArgument, 'unlock(): this rank holds no lock on the window');
    const request = this.request<void>(RmaCode.Unlock, [], 'unlock()');
    this.lockHeld = undefined;
    return request;
  }

  /**
   * Collective (MPI_Win_fence): every operation any member started before its fence is applied
   * before any member's fence resolves, so operations after the fence see all of them.
   */
  fence(): Promise<void> {
    if (this.freed) throw closed('fence()');
    return this.collective
      .start('window.fence()', async (op) => {
        await this.idle();
        await barrierAlgo(op);
      })
      .then();
  }

  /** Collective: completes this rank's operations, then the host drops the slots. */
  free(): Promise<void> {
    if (this.freed) throw closed('free()');
    this.freed = true;
    return this.collective
      .start('window.free()', async (op) => {
        await this.idle();
        await barrierAlgo(op);
        if (this.comm.rank === this.root) this.endpoint.unhost(this.comm.context, this.id);
      })
      .then();
  }

  private request<R>(code: number, args: unknown[], what: string): Request<R> {
    const full = `window ${this.comm.context}/${this.id} (host rank ${this.root}): ${what}`;
    if (this.freed) throw closed(what);
    if (code <= RmaCode.CompareAndSwap) {
      const i = args[0];
      if (!Number.isInteger(i) || (i as number) < 0 || (i as number) >= this.length) {
        throw new DsError(
          ErrorCode.InvalidArgument,
          `${full}: slot ${String(i)} is out of range; the window has slots 0..${this.length - 1}`,
        );
      }
    }
    assertPlainData(args, full);
    this.outstanding++;
    return this.endpoint.request<R>(this.hostRank, this.comm.context, this.id, code, args, full, () => {
      if (--this.outstanding === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    });
  }

  /** Resolves when every operation this rank started on the window has completed (or failed). */
  private idle(): Promise<void> {
    if (this.outstanding === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}

function checkOp(op: unknown, what: string): void {
  if (op === 'replace' || isReduceOpName(op)) return;
  throw new DsError(
    ErrorCode.InvalidArgument,
    `${what}: unknown op ${String(op)}; use 'replace' or one of ${REDUCE_OP_NAMES.map((n) => `'${n}'`).join(', ')}`,
  );
}

function closed(what: string): DsError {
  return new DsError(ErrorCode.Closed, `${what}: the window was freed`);
}

function checkRoot(comm: CommScope, root: number, what: string): void {
  if (Number.isInteger(root) && root >= 0 && root < comm.size) return;
  throw new DsError(
    ErrorCode.InvalidRank,
    `${what}: root ${String(root)} is not a rank of this communicator; size is ${comm.size} (ranks 0..${comm.size - 1})`,
  );
}

/** Collective: creates a window of `length` slots hosted by `root` (MPI_Win_allocate). */
export function createWindow<T = number>(collective: CollectiveState, options: WindowOptions<T>, what = 'window()'): Request<Window<T>> {
  const comm = collective.scope;
  const root = options.root ?? 0;
  const length = options.length;
  const initial = options.initial ?? (0 as T);
  checkRoot(comm, root, what);
  if (!Number.isInteger(length) || length < 1) {
    throw new DsError(ErrorCode.InvalidArgument, `${what}: length must be an integer >= 1, got ${String(length)}`);
  }
  assertPlainData(initial, what);
  const id = comm.objects++;
  const endpoint = comm.rankContext.rma;
  return collective.start(what, async (op) => {
    if (comm.rank === root) {
      endpoint.host(comm.context, id, (respond) => new HostedWindow(length, initial, respond));
    }
    // Nobody sends a request before the host has the object.
    await barrierAlgo(op);
    return new Window<T>(collective, id, root, length);
  });
}
