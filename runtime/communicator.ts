import type { Clock } from './clock.ts';
import { ANY_SOURCE, ANY_TAG, PROC_NULL, TAG_UB } from './constants.ts';
import type { Engine } from './engine.ts';
import { DsError, ErrorCode } from './errors.ts';
import type { Matcher, Message, Status } from './matching.ts';
import { Request, type PendingOperation } from './request.ts';
import { Kind } from './transport/codec.ts';

export interface RecvOptions {
  /** Reject with DS_ERR_TIMEOUT if nothing matches within this many milliseconds. */
  timeoutMs?: number;
}

/**
 * A group of ranks that talk among themselves (MPI_Comm). Point-to-point traffic runs on its own
 * context, so it never matches traffic of another communicator.
 */
export class Communicator {
  /** This process's rank in the communicator, 0..size-1. */
  readonly rank: number;
  readonly size: number;
  /** The rank's clock: use it instead of Date.now/setTimeout so simulations replay. */
  readonly clock: Clock;
  /** @internal */
  readonly engine: Engine;
  /** @internal context id of point-to-point traffic; collectives use `context + 1`. */
  readonly context: number;
  /** @internal world rank of each member. */
  readonly group: readonly number[];
  private readonly matcher: Matcher;

  /** @internal use run(), split() or dup(). */
  constructor(engine: Engine, context: number, group: readonly number[]) {
    this.engine = engine;
    this.context = context;
    this.group = group;
    this.size = group.length;
    this.rank = group.indexOf(engine.rank);
    this.clock = engine.clock;
    this.matcher = engine.openContext(context, isWorld(group, engine.size) ? undefined : group);
  }

  /** A float in [0, 1) from this rank's seeded stream (replays with the job seed). */
  random(): number {
    return this.engine.random();
  }

  /** Sends `data` to `dest` with `tag`. Resolves once the message is handed to the network. */
  send(data: unknown, dest: number, tag = 0): Promise<void> {
    return this.isend(data, dest, tag).then(noop);
  }

  /** Non-blocking send (MPI_Isend). Argument errors throw at once, before anything is sent. */
  isend(data: unknown, dest: number, tag = 0): Request<void> {
    const what = `send to rank ${dest} with tag ${tag}`;
    this.checkRank(dest, what, false);
    this.checkTag(tag, what, false);
    const now = this.clock.now();
    if (dest === PROC_NULL) return Request.resolved<void>(what, now, undefined);
    const sent = this.engine.send(this.group[dest], Kind.Message, this.context, tag, data, what);
    if (sent === undefined) return Request.resolved<void>(what, now, undefined);
    const request = new Request<void>(`send(dest=${dest}, tag=${tag}) held by backpressure`, now);
    this.engine.inflight.add(request);
    sent.then(
      () => {
        this.engine.inflight.delete(request);
        request.resolve();
      },
      (err) => {
        this.engine.inflight.delete(request);
        request.reject(err);
      },
    );
    return request;
  }

  /** Receives a message matching `source` and `tag` (wildcards ANY_SOURCE, ANY_TAG). */
  recv<T = unknown>(source = ANY_SOURCE, tag = ANY_TAG, options: RecvOptions = {}): Request<Message<T>> {
    return this.irecv<T>(source, tag, options);
  }

  /** Non-blocking receive (MPI_Irecv): an awaitable request that can be tested or cancelled. */
  irecv<T = unknown>(source = ANY_SOURCE, tag = ANY_TAG, options: RecvOptions = {}): Request<Message<T>> {
    const what = `recv(source=${fmtSource(source)}, tag=${fmtTag(tag)})`;
    this.checkRank(source, what, true);
    this.checkTag(tag, what, true);
    const now = this.clock.now();
    if (source === PROC_NULL) {
      return Request.resolved(what, now, { source: PROC_NULL, tag: ANY_TAG, data: undefined as T });
    }
    const ready = this.matcher.take(source, tag);
    if (ready) return Request.resolved(what, now, ready as Message<T>);
    const request: Request<Message<T>> = new Request(what, now, () => this.matcher.withdraw(request));
    if (source !== ANY_SOURCE && this.engine.dead.has(this.group[source])) {
      request.reject(new DsError(ErrorCode.PeerLost, `${what}: rank ${source} is dead`));
      return request;
    }
    this.matcher.post({
      source,
      tag,
      request: request as Request<Message>,
      clearTimer: this.timer(request, options.timeoutMs, what),
    });
    return request;
  }

  /** Waits until a matching message is available, without receiving it (MPI_Probe). */
  probe(source = ANY_SOURCE, tag = ANY_TAG, options: RecvOptions = {}): Request<Status> {
    const what = `probe(source=${fmtSource(source)}, tag=${fmtTag(tag)})`;
    this.checkRank(source, what, true);
    this.checkTag(tag, what, true);
    const now = this.clock.now();
    const ready = this.iprobe(source, tag);
    if (ready) return Request.resolved(what, now, ready);
    const request: Request<Status> = new Request(what, now, () => this.matcher.withdraw(request));
    this.matcher.postProbe({ source, tag, request, clearTimer: this.timer(request, options.timeoutMs, what) });
    return request;
  }

  /** The status of a matching message if one is waiting, else undefined (MPI_Iprobe). */
  iprobe(source = ANY_SOURCE, tag = ANY_TAG): Status | undefined {
    const what = `iprobe(source=${fmtSource(source)}, tag=${fmtTag(tag)})`;
    this.checkRank(source, what, true);
    this.checkTag(tag, what, true);
    const m = this.matcher.peek(source, tag);
    return m ? { source: m.source, tag: m.tag } : undefined;
  }

  /** Sends to `dest` and receives from `source` at once (MPI_Sendrecv): no deadlock in a ring. */
  async sendrecv<T = unknown>(
    data: unknown,
    dest: number,
    sendTag = 0,
    source = ANY_SOURCE,
    recvTag = ANY_TAG,
    options: RecvOptions = {},
  ): Promise<Message<T>> {
    const receiving = this.irecv<T>(source, recvTag, options);
    const sending = this.isend(data, dest, sendTag);
    const [, msg] = await Promise.all([sending, receiving]);
    return msg;
  }

  /** Ends the whole job at once with exit `code` (MPI_Abort). */
  abort(code = 1, reason = 'abort() called'): void {
    this.engine.abort(code, `rank ${this.rank}: ${reason}`);
  }

  /** Starts a timeout timer for a pending request; returns its canceller. */
  private timer(request: PendingOperation & { reject(err: unknown): void }, timeoutMs: number | undefined, what: string): (() => void) | undefined {
    if (timeoutMs === undefined) return undefined;
    if (!(timeoutMs >= 0)) {
      throw new DsError(ErrorCode.InvalidArgument, `${what}: timeoutMs must be a number >= 0, got ${timeoutMs}`);
    }
    return this.clock.setTimer(timeoutMs, () => {
      if (this.matcher.withdraw(request)) {
        request.reject(new DsError(ErrorCode.Timeout, `${what} timed out after ${timeoutMs} ms`));
      }
    });
  }

  private checkRank(rank: number, what: string, wildcard: boolean): void {
    if (Number.isInteger(rank) && ((rank >= 0 && rank < this.size) || rank === PROC_NULL)) return;
    if (wildcard && rank === ANY_SOURCE) return;
    throw new DsError(
      ErrorCode.InvalidRank,
      `${what}: rank ${String(rank)} is not valid; size is ${this.size} (ranks 0..${this.size - 1}` +
        `${wildcard ? ', ANY_SOURCE' : ''} or PROC_NULL)`,
    );
  }

  private checkTag(tag: number, what: string, wildcard: boolean): void {
    if (Number.isInteger(tag) && tag >= 0 && tag <= TAG_UB) return;
    if (wildcard && tag === ANY_TAG) return;
    throw new DsError(
      ErrorCode.InvalidArgument,
      `${what}: tag ${String(tag)} is not valid; tags are integers 0..${TAG_UB}${wildcard ? ' or ANY_TAG' : ''}`,
    );
  }
}

function isWorld(group: readonly number[], worldSize: number): boolean {
  return group.length === worldSize && group.every((w, i) => w === i);
}

function fmtSource(source: number): string {
  return source === ANY_SOURCE ? 'ANY_SOURCE' : String(source);
}

function fmtTag(tag: number): string {
  return tag === ANY_TAG ? 'ANY_TAG' : String(tag);
}

function noop(): void {}
