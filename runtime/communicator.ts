import type { Clock } from './clock.ts';
import { ANY_SOURCE, ANY_TAG, PROC_NULL, TAG_UB } from './constants.ts';
import type { Engine } from './engine.ts';
import { DsError, ErrorCode } from './errors.ts';
import type { Matcher, Message, Status } from './matching.ts';
import { Request, type Completion, type PendingOperation } from './request.ts';
import type { DurableStorage } from './storage.ts';
import { noteValue } from './protocol/trace-event.ts';
import { describe, type Describe } from './payload.ts';
import * as coll from './collectives.ts';
import { CollectiveState } from './collectives.ts';
import type { ReduceOp } from './reduce-ops.ts';
import * as comms from './split.ts';
import { agree as agreeComm, shrink as shrinkComm } from './shrink.ts';
import { parentOf, retireRank, spawnRanks, type Intercomm, type SpawnOptions } from './spawn.ts';
import { createCounter, type Counter, type CounterOptions } from './one-sided/counter.ts';
import { createWindow, type Window, type WindowOptions } from './one-sided/window.ts';

export interface RecvOptions {
  /** Reject with DS_ERR_TIMEOUT if nothing matches within this many milliseconds. */
  timeoutMs?: number;
  /**
   * Where to write a Uint8Array payload: the message's `data` is then the part of `into` it fills
   * (a large message is written there as its chunks arrive, without another copy). A payload that
   * does not fit fails the receive with DS_ERR_PAYLOAD_TOO_LARGE; other payloads arrive as usual.
   */
  into?: Uint8Array;
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
    this.matcher = engine.openContext(context, isWorld(group, engine.size) ? undefined : group, true);
    this.collective = new CollectiveState(this); // opens context + 1 (runtime/collectives.ts)
  }

  /** A float in [0, 1) from this rank's seeded stream (replays with the job seed). */
  random(): number {
    return this.engine.random();
  }

  /** Sends `data` to `dest` with `tag`. Resolves once the message is handed to the network. */
  send(data: unknown, dest: number, tag = 0): Promise<void> {
    const what = (): string => `send to rank ${dest} with tag ${tag}`;
    this.checkRank(dest, what, false);
    this.checkTag(tag, what, false);
    this.checkOpen(what);
    if (dest === PROC_NULL) return Promise.resolve();
    return this.engine.sendPointToPoint(this.group[dest], this.context, tag, data, what) ?? Promise.resolve();
  }

  /** Non-blocking send (MPI_Isend). Argument errors throw at once, before anything is sent. */
  isend(data: unknown, dest: number, tag = 0): Request<void> {
    const what = (): string => `send to rank ${dest} with tag ${tag}`;
    this.checkRank(dest, what, false);
    this.checkTag(tag, what, false);
    this.checkOpen(what);
    if (dest === PROC_NULL) return SENT;
    const sent = this.engine.sendPointToPoint(this.group[dest], this.context, tag, data, what);
    if (sent === undefined) return SENT;
    const request = new Request<void>(`send(dest=${dest}, tag=${tag}) held by backpressure`, this.clock.now());
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
  recv<T = unknown>(source = ANY_SOURCE, tag = ANY_TAG, options: RecvOptions = {}): Promise<Message<T>> {
    const describeRecv = (): string => `recv(source=${fmtSource(source)}, tag=${fmtTag(tag)})`;
    this.checkRank(source, describeRecv, true);
    this.checkTag(tag, describeRecv, true);
    this.checkOpen(describeRecv);
    if (source === PROC_NULL) return Promise.resolve({ source: PROC_NULL, tag: ANY_TAG, data: undefined as T });
    const ready = this.receiveNow(source, tag, options.into, describeRecv);
    if (ready) return Promise.resolve(ready as Message<T> | Promise<Message<T>>);
    const what = describeRecv();
    // A bare promise rather than a Request: the common blocking case stays on V8's fast await path.
    return new Promise((resolve, reject) => {
      const op = { description: what, startedAt: this.clock.now(), resolve, reject };
      this.postReceive(source, tag, op as Completion<Message>, options, what);
    });
  }

  /** Non-blocking receive (MPI_Irecv): an awaitable request that can be tested or cancelled. */
  irecv<T = unknown>(source = ANY_SOURCE, tag = ANY_TAG, options: RecvOptions = {}): Request<Message<T>> {
    const what = `recv(source=${fmtSource(source)}, tag=${fmtTag(tag)})`;
    this.checkRank(source, what, true);
    this.checkTag(tag, what, true);
    this.checkOpen(what);
    const now = this.clock.now();
    if (source === PROC_NULL) {
      return Request.resolved(what, now, { source: PROC_NULL, tag: ANY_TAG, data: undefined as T });
    }
    const ready = this.receiveNow(source, tag, options.into, what);
    if (ready && !(ready instanceof Promise)) return Request.resolved(what, now, ready as Message<T>);
    if (ready) {
      const request = new Request<Message<T>>(what, now);
      ready.then(
        (m) => request.resolve(m as Message<T>),
        (err) => request.reject(err),
      );
      return request;
    }
    const request: Request<Message<T>> = new Request(what, now, () => this.matcher.withdraw(request));
    this.postReceive(source, tag, request as Request<Message>, options, what);
    return request;
  }

  /** A receive completed by a message already here (its data may still have to come: a large message). */
  private receiveNow(source: number, tag: number, into: Uint8Array | undefined, what: Describe): Message | Promise<Message> | undefined {
    if (into !== undefined && !(into instanceof Uint8Array)) {
      throw new DsError(ErrorCode.InvalidArgument, `${describe(what)}: into must be a Uint8Array`);
    }
    try {
      return this.matcher.receive(source, tag, into);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private postReceive(source: number, tag: number, op: Completion<Message>, options: RecvOptions, what: string): void {
    const { timeoutMs, into } = options;
    if (source !== ANY_SOURCE && this.engine.dead.has(this.group[source])) {
      op.reject(new DsError(ErrorCode.PeerLost, `${what}: rank ${source} is dead`));
      return;
    }
    if (source !== ANY_SOURCE && this.engine.retired.has(this.group[source])) {
      op.reject(new DsError(ErrorCode.Retired, `${what}: rank ${source} has retired`));
      return;
    }
    this.matcher.post({ source, tag, request: op, into, clearTimer: this.timer(op, timeoutMs, what) });
  }

  /** Waits until a matching message is available, without receiving it (MPI_Probe). */
  probe(source = ANY_SOURCE, tag = ANY_TAG, options: RecvOptions = {}): Request<Status> {
    const what = `probe(source=${fmtSource(source)}, tag=${fmtTag(tag)})`;
    this.checkRank(source, what, true);
    this.checkTag(tag, what, true);
    this.checkOpen(what);
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
    this.checkOpen(what);
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

  /**
   * Marks the start of an operation of the program (a client request, a decision) in the job's
   * trace; call `end()` when it completes. Run reports give each name's count, latency percentiles
   * and messages per operation. Costs nothing when the job is not traced.
   */
  beginOperation(name: string): { end(): void } {
    const trace = this.engine.trace;
    if (!trace) return NO_OPERATION;
    const op = ++this.engine.operations;
    trace({ ev: 'op', name, phase: 'begin', op });
    let ended = false;
    return {
      end: () => {
        if (ended) return;
        ended = true;
        trace({ ev: 'op', name, phase: 'end', op });
      },
    };
  }

  /**
   * Records a local event of the program (`comm.note('decided', value)`) in the job's trace: the
   * viewer marks it on this rank's line. Costs nothing when the job is not traced.
   */
  note(name: string, value?: unknown): void {
    this.engine.trace?.({ ev: 'note', name, ...(value === undefined ? {} : { value: noteValue(value) }) });
  }

  // ---- BEGIN failures and durable storage (simulator owner: runtime/sim/) ----

  /** Ranks of this communicator known to be dead (crashed or cut off for good), ascending. */
  failed(): number[] {
    const dead: number[] = [];
    this.group.forEach((world, local) => {
      if (this.engine.dead.has(world)) dead.push(local);
    });
    return dead;
  }

  /**
   * Calls `callback(rank, reason)` when a member of this communicator is lost (its pending receives
   * then reject with DS_ERR_PEER_LOST). Returns a function that stops the calls.
   */
  onFailure(callback: (rank: number, reason: string) => void): () => void {
    let active = true;
    this.engine.onPeerLost((world, reason) => {
      const local = this.group.indexOf(world);
      if (!active || local < 0) return;
      try {
        callback(local, reason);
      } catch (err) {
        this.engine.report(err instanceof Error ? err : new Error(String(err)));
      }
    });
    return () => {
      active = false;
    };
  }

  /** This rank's durable storage: plain data by key that survives a crash and restart of the rank. */
  get storage(): DurableStorage {
    return this.engine.storage;
  }

  // ---- END failures and durable storage ----

  /** Starts a timeout timer for a pending request; returns its canceller. */
  private timer(
    request: PendingOperation & { reject(err: unknown): void },
    timeoutMs: number | undefined,
    what: string,
  ): (() => void) | undefined {
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

  private checkOpen(what: Describe): void {
    if (this.collective.freed) throw new DsError(ErrorCode.Closed, `${describe(what)}: the communicator was freed`);
    if (this.revoked) throw new DsError(ErrorCode.Revoked, `${describe(what)}: the communicator was revoked`);
  }

  private checkRank(rank: number, what: Describe, wildcard: boolean): void {
    if (Number.isInteger(rank) && ((rank >= 0 && rank < this.size) || rank === PROC_NULL)) return;
    if (wildcard && rank === ANY_SOURCE) return;
    throw new DsError(
      ErrorCode.InvalidRank,
      `${describe(what)}: rank ${String(rank)} is not valid; size is ${this.size} (ranks 0..${this.size - 1}` +
        `${wildcard ? ', ANY_SOURCE' : ''} or PROC_NULL)`,
    );
  }

  private checkTag(tag: number, what: Describe, wildcard: boolean): void {
    if (Number.isInteger(tag) && tag >= 0 && tag <= TAG_UB) return;
    if (wildcard && tag === ANY_TAG) return;
    throw new DsError(
      ErrorCode.InvalidArgument,
      `${describe(what)}: tag ${String(tag)} is not valid; tags are integers 0..${TAG_UB}${wildcard ? ' or ANY_TAG' : ''}`,
    );
  }

  // ---- BEGIN dynamic processes (runtime/spawn.ts, docs/dynamic-processes.md) ----

  /**
   * Starts `n` new ranks running `options.program` (default: this job's program) and resolves to an
   * intercommunicator to them (MPI_Comm_spawn from this rank alone: not a collective). The children's
   * `world` holds the ranks spawned together; their `world.parent` leads back here.
   */
  spawn(n: number, options: SpawnOptions = {}): Promise<Intercomm> {
    return spawnRanks(this, n, options);
  }

  /** For a spawned rank, the intercommunicator to the rank that spawned it (index 0); else undefined. */
  get parent(): Intercomm | undefined {
    return parentOf(this.engine);
  }

  /**
   * Leaves the job for good and normally (not a failure): flushes what this rank has sent, then the
   * others are told; their sends to it and receives from it reject with DS_ERR_RETIRED. The returned
   * promise never settles: make it the last thing the program does.
   */
  retire(): Promise<never> {
    return retireRank(this.engine);
  }

  // ---- END dynamic processes ----

  // --- collectives, communicators and one-sided (runtime/collectives.ts, runtime/split.ts, runtime/one-sided/) ---
  // Collectives: every member calls them in the same order. Argument errors throw at once.

  /** @internal the collective context (`context + 1`) and its call sequence. */
  readonly collective: CollectiveState;

  /** Waits until every member has called barrier (MPI_Barrier). */
  barrier(): Promise<void> {
    return coll.ibarrier(this).then();
  }

  /** `root`'s data, on every rank (MPI_Bcast). */
  bcast<T>(data: T, root = 0): Promise<T> {
    return coll.ibcast(this, data, root).then();
  }

  /** Rank i gets `chunks[i]` of root's array of `size` chunks (MPI_Scatter); others pass anything. */
  scatter<T>(chunks: readonly T[] | undefined, root = 0): Promise<T> {
    return coll.iscatter(this, chunks, root).then();
  }

  /** Every rank's data in rank order at root; undefined elsewhere (MPI_Gather). */
  gather<T>(data: T, root = 0): Promise<T[] | undefined> {
    return coll.igather(this, data, root).then();
  }

  /** Every rank's data in rank order, on every rank (MPI_Allgather). */
  allgather<T>(data: T): Promise<T[]> {
    return coll.iallgather(this, data).then();
  }

  /** Combines every rank's data with `op` in rank order; the result at root, undefined elsewhere (MPI_Reduce). */
  reduce<T>(data: T, op: ReduceOp<T> = 'sum', root = 0): Promise<T | undefined> {
    return coll.ireduce(this, data, op, root).then();
  }

  /** Combines every rank's data with `op` in rank order; the result on every rank (MPI_Allreduce). */
  allreduce<T>(data: T, op: ReduceOp<T> = 'sum'): Promise<T> {
    return coll.iallreduce(this, data, op).then();
  }

  /** Rank i sends `chunks[j]` to rank j and gets back every rank's chunk i, in rank order (MPI_Alltoall). */
  alltoall<T>(chunks: readonly T[]): Promise<T[]> {
    return coll.ialltoall(this, chunks).then();
  }

  /** Inclusive prefix reduction: rank i gets data of ranks 0..i combined (MPI_Scan). */
  scan<T>(data: T, op: ReduceOp<T> = 'sum'): Promise<T> {
    return coll.iscan(this, data, op).then();
  }

  /** Exclusive prefix reduction: rank i gets data of ranks 0..i-1 combined; undefined at rank 0 (MPI_Exscan). */
  exscan<T>(data: T, op: ReduceOp<T> = 'sum'): Promise<T | undefined> {
    return coll.iexscan(this, data, op).then();
  }

  /** Non-blocking barrier (MPI_Ibarrier). */
  ibarrier(): Request<void> {
    return coll.ibarrier(this);
  }

  /** Non-blocking bcast (MPI_Ibcast). */
  ibcast<T>(data: T, root = 0): Request<T> {
    return coll.ibcast(this, data, root);
  }

  /** Non-blocking allreduce (MPI_Iallreduce). */
  iallreduce<T>(data: T, op: ReduceOp<T> = 'sum'): Request<T> {
    return coll.iallreduce(this, data, op);
  }

  /** Non-blocking reduce (MPI_Ireduce). */
  ireduce<T>(data: T, op: ReduceOp<T> = 'sum', root = 0): Request<T | undefined> {
    return coll.ireduce(this, data, op, root);
  }

  /** Non-blocking gather (MPI_Igather). */
  igather<T>(data: T, root = 0): Request<T[] | undefined> {
    return coll.igather(this, data, root);
  }

  /** Non-blocking scatter (MPI_Iscatter). */
  iscatter<T>(chunks: readonly T[] | undefined, root = 0): Request<T> {
    return coll.iscatter(this, chunks, root);
  }

  /** Non-blocking allgather (MPI_Iallgather). */
  iallgather<T>(data: T): Request<T[]> {
    return coll.iallgather(this, data);
  }

  /** Non-blocking alltoall (MPI_Ialltoall). */
  ialltoall<T>(chunks: readonly T[]): Request<T[]> {
    return coll.ialltoall(this, chunks);
  }

  /** Collective: sub-communicators by `color`, ranks ordered by `key` then rank; UNDEFINED gives undefined (MPI_Comm_split). */
  split(color: number, key: number = this.rank): Promise<Communicator | undefined> {
    return comms.split(this, color, key).then();
  }

  /** Collective: the same ranks on new contexts (MPI_Comm_dup). */
  dup(): Promise<Communicator> {
    return comms.dup(this).then();
  }

  /**
   * Collective over the live members: a new communicator of the members still alive, in their old
   * order (ULFM's shrink; under dsrun the coordinator decides who is alive). See docs/faults.md.
   */
  shrink(): Promise<Communicator> {
    return shrinkComm(this);
  }

  /**
   * Revokes the communicator on every member (ULFM's MPIX_Comm_revoke): their pending and later
   * operations on it fail with DS_ERR_REVOKED wherever they wait, so that survivors of a failure
   * all reach shrink() or agree(), the two operations that still work on it. Not a collective: any
   * member may call it, once or more. See docs/faults.md.
   */
  revoke(): void {
    this.engine.revoke(this.context);
  }

  /** Whether the communicator has been revoked (by this rank or another). */
  get revoked(): boolean {
    return this.engine.isRevoked(this.context);
  }

  /**
   * Collective over the live members: resolves on every one to the AND of the flags of the members
   * that took part, dead ones left out (ULFM's MPIX_Comm_agree). Works on a revoked communicator.
   */
  agree(flag: boolean): Promise<boolean> {
    return agreeComm(this, flag);
  }

  /** Frees the communicator on this rank, once its operations are done (MPI_Comm_free). */
  free(): void {
    comms.free(this);
  }

  /** Collective: a shared counter hosted by `root`, updated atomically by every member (docs/one-sided.md). */
  counter(options: CounterOptions = {}): Promise<Counter> {
    return createCounter(this, options).then();
  }

  /** Collective: a window of `length` slots hosted by `root` (docs/one-sided.md). */
  window<T = number>(options: WindowOptions<T>): Promise<Window<T>> {
    return createWindow<T>(this, options).then();
  }

  // --- end of collectives, communicators and one-sided ---
}

const NO_OPERATION = { end(): void {} };

/** What every send that went straight to the network returns: a request already complete. */
const SENT = Request.resolved<void>('send', 0, undefined);

function isWorld(group: readonly number[], worldSize: number): boolean {
  return group.length === worldSize && group.every((w, i) => w === i);
}

function fmtSource(source: number): string {
  return source === ANY_SOURCE ? 'ANY_SOURCE' : String(source);
}

function fmtTag(tag: number): string {
  return tag === ANY_TAG ? 'ANY_TAG' : String(tag);
}
