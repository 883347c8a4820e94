import { DsError, ErrorCode } from '../errors.ts';
import { applyBuiltin, isReduceOpName } from '../reduce-ops.ts';
import { RmaCode, type HostedObject, type Respond } from './rma.ts';

/**
 * The host's copy of a window (a counter is a window of one slot), served by the host's runtime.
 * Requests are applied one at a time, each completely, in arrival order, except that a request
 * waits in `queue` while it cannot run: an operation while another rank holds an exclusive lock, a
 * lock request while a conflicting lock is held or an earlier lock request waits (first come,
 * first served), and anything behind an earlier waiting request of the same origin (per-origin FIFO).
 */

interface Item {
  origin: number;
  reqId: number;
  code: number;
  args: unknown[];
}

type Result = { value: unknown } | { error: DsError };

export class HostedWindow implements HostedObject {
  private readonly slots: unknown[];
  private readonly respond: Respond;
  private exclusive: number | undefined;
  private readonly shared = new Set<number>();
  private queue: Item[] = [];

  constructor(length: number, initial: unknown, respond: Respond) {
    this.slots = Array.from({ length }, () => structuredClone(initial));
    this.respond = respond;
  }

  arrive(origin: number, reqId: number, code: number, args: unknown[]): void {
    this.queue.push({ origin, reqId, code, args });
    this.drain();
  }

  originLost(origin: number): void {
    this.queue = this.queue.filter((item) => item.origin !== origin);
    if (this.exclusive === origin) this.exclusive = undefined;
    this.shared.delete(origin);
    this.drain();
  }

  /** Applies every queued request that can run, earliest first, until none can. */
  private drain(): void {
    for (;;) {
      const blockedOrigins = new Set<number>();
      let lockWaiting = false;
      let index = -1;
      for (let i = 0; i < this.queue.length; i++) {
        const item = this.queue[i];
        if (blockedOrigins.has(item.origin)) continue;
        if (this.canRun(item, lockWaiting)) {
          index = i;
          break;
        }
        blockedOrigins.add(item.origin);
        if (item.code === RmaCode.Lock) lockWaiting = true;
      }
      if (index < 0) return;
      const [item] = this.queue.splice(index, 1);
      this.respond(item.origin, item.reqId, this.apply(item));
    }
  }

  private canRun(item: Item, lockWaiting: boolean): boolean {
    switch (item.code) {
      case RmaCode.Lock:
        if (lockWaiting || this.exclusive !== undefined) return false;
        return item.args[0] === 'shared' || this.shared.size === 0;
      case RmaCode.Unlock:
        return true; // an unlock behind its own waiting lock is held back by per-origin FIFO
      default:
        return this.exclusive === undefined || this.exclusive === item.origin;
    }
  }

  private apply(item: Item): Result {
    try {
      return { value: this.execute(item) };
    } catch (err) {
      return { error: err instanceof DsError ? err : new DsError(ErrorCode.OpFailed, String(err)) };
    }
  }

  private execute({ origin, code, args }: Item): unknown {
    switch (code) {
      case RmaCode.Lock:
        if (this.exclusive === origin || this.shared.has(origin)) {
          throw new DsError(ErrorCode.InvalidArgument, 'lock: this rank already holds a lock on the window');
        }
        if (args[0] === 'shared') this.shared.add(origin);
        else this.exclusive = origin;
        return null;
      case RmaCode.Unlock:
        if (this.exclusive === origin) this.exclusive = undefined;
        else if (!this.shared.delete(origin)) {
          throw new DsError(ErrorCode.InvalidArgument, 'unlock: this rank holds no lock on the window');
        }
        return null;
    }
    const i = args[0];
    if (!Number.isInteger(i) || (i as number) < 0 || (i as number) >= this.slots.length) {
      throw new DsError(ErrorCode.InvalidArgument, `slot ${String(i)} is out of range; the window has ${this.slots.length} slots`);
    }
    const slot = i as number;
    const before = this.slots[slot];
    switch (code) {
      case RmaCode.Get:
        return before;
      case RmaCode.Put:
        this.slots[slot] = args[1];
        return null;
      case RmaCode.Accumulate:
        this.slots[slot] = combine(args[2], before, args[1]);
        return null;
      case RmaCode.FetchAndOp:
        this.slots[slot] = combine(args[2], before, args[1]);
        return before;
      case RmaCode.CompareAndSwap:
        if (plainEqual(before, args[1])) this.slots[slot] = args[2];
        return before;
      default:
        throw new DsError(ErrorCode.Protocol, `unknown one-sided request code ${code}`);
    }
  }
}

function combine(op: unknown, current: unknown, value: unknown): unknown {
  if (op === 'replace') return value;
  if (!isReduceOpName(op)) throw new DsError(ErrorCode.InvalidArgument, `unknown op ${String(op)}`);
  return applyBuiltin(op, current, value, 'slot');
}

/** Structural equality of plain data (what compareAndSwap compares). */
export function plainEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b) || (a === 0 && b === 0)) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    return a.length === b.length && a.every((x, i) => x === b[i]);
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && plainEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
