import type { Clock } from './clock.ts';
import { ANY_SOURCE, ANY_TAG } from './constants.ts';
import type { Engine } from './engine.ts';
import type { Message, Status } from './matching.ts';
import type { Request } from './request.ts';
import type { DurableStorage } from './storage.ts';
import { noteValue } from './protocol/trace-event.ts';
import * as coll from './collectives.ts';
import { CollectiveState } from './collectives.ts';
import { CommScope, type NewGroup } from './comm-scope.ts';
import type { Intercomm } from './intercomm.ts';
import { PointToPoint, type RecvOptions } from './point-to-point.ts';
import type { RankContext, SpawnOptions } from './rank-context.ts';
import type { ReduceOp } from './reduce-ops.ts';
import * as comms from './split.ts';
import { agree as agreeComm, shrink as shrinkComm } from './shrink.ts';
import { retireRank, spawnRanks } from './spawn.ts';
import { createCounter, type Counter, type CounterOptions } from './one-sided/counter.ts';
import { createWindow, type Window, type WindowOptions } from './one-sided/window.ts';

export type { RecvOptions } from './point-to-point.ts';

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
  /** @internal what the features of this communicator know of it. */
  readonly scope: CommScope;
  /** @internal the point-to-point path of this communicator's context. */
  readonly p2p: PointToPoint;

  /** @internal use run(), split() or dup(). */
  constructor(rankContext: RankContext, context: number, group: readonly number[]) {
    const scope = new CommScope(rankContext, context, group);
    this.scope = scope;
    this.engine = scope.engine;
    this.context = context;
    this.group = group;
    this.size = scope.size;
    this.rank = scope.rank;
    this.clock = scope.engine.clock;
    this.p2p = new PointToPoint(
      scope.engine,
      context,
      { world: group, byWorld: false, noun: 'rank', flow: true },
      scope.isWorld ? undefined : group,
    );
    this.collective = new CollectiveState(scope); // opens context + 1 (runtime/collectives.ts)
  }

  /** A communicator of this rank on a context and members agreed by split, dup or shrink. */
  private make = (g: NewGroup): Communicator => new Communicator(this.scope.rankContext, g.context, g.group);

  /** A float in [0, 1) from this rank's seeded stream (replays with the job seed). */
  random(): number {
    return this.engine.random();
  }

  /** Sends `data` to `dest` with `tag`. Resolves once the message is handed to the network. */
  send(data: unknown, dest: number, tag = 0): Promise<void> {
    return this.p2p.send(data, dest, tag, () => `send to rank ${dest} with tag ${tag}`);
  }

  /** Non-blocking send (MPI_Isend). Argument errors throw at once, before anything is sent. */
  isend(data: unknown, dest: number, tag = 0): Request<void> {
    return this.p2p.isend(data, dest, tag, () => `send to rank ${dest} with tag ${tag}`);
  }

  /** Receives a message matching `source` and `tag` (wildcards ANY_SOURCE, ANY_TAG). */
  recv<T = unknown>(source = ANY_SOURCE, tag = ANY_TAG, options: RecvOptions = {}): Promise<Message<T>> {
    return this.p2p.recv<T>(source, tag, options, () => `recv(source=${fmtSource(source)}, tag=${fmtTag(tag)})`);
  }

  /** Non-blocking receive (MPI_Irecv): an awaitable request that can be tested or cancelled. */
  irecv<T = unknown>(source = ANY_SOURCE, tag = ANY_TAG, options: RecvOptions = {}): Request<Message<T>> {
    return this.p2p.irecv<T>(source, tag, options, `recv(source=${fmtSource(source)}, tag=${fmtTag(tag)})`);
  }

  /** Waits until a matching message is available, without receiving it (MPI_Probe). */
  probe(source = ANY_SOURCE, tag = ANY_TAG, options: RecvOptions = {}): Request<Status> {
    return this.p2p.probe(source, tag, options, `probe(source=${fmtSource(source)}, tag=${fmtTag(tag)})`);
  }

  /** The status of a matching message if one is waiting, else undefined (MPI_Iprobe). */
  iprobe(source = ANY_SOURCE, tag = ANY_TAG): Status | undefined {
    return this.p2p.iprobe(source, tag, `iprobe(source=${fmtSource(source)}, tag=${fmtTag(tag)})`);
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

  // ---- BEGIN dynamic processes (runtime/spawn.ts, docs/dynamic-processes.md) ----

  /**
   * Starts `n` new ranks running `options.program` (default: this job's program) and resolves to an
   * intercommunicator to them (MPI_Comm_spawn from this rank alone: not a collective). The children's
   * `world` holds the ranks spawned together; their `world.parent` leads back here.
   */
  spawn(n: number, options: SpawnOptions = {}): Promise<Intercomm> {
    return spawnRanks(this.scope, n, options);
  }

  /** For a spawned rank, the intercommunicator to the rank that spawned it (index 0); else undefined. */
  get parent(): Intercomm | undefined {
    return this.scope.rankContext.parent;
  }

  /**
   * Leaves the job for good and normally (not a failure): flushes what this rank has sent, then the
   * others are told; their sends to it and receives from it reject with DS_ERR_RETIRED. The returned
   * promise never settles: make it the last thing the program does.
   */
  retire(): Promise<never> {
    return retireRank(this.scope.rankContext);
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
    return comms.split(this.collective, color, key, this.make).then();
  }

  /** Collective: the same ranks on new contexts (MPI_Comm_dup). */
  dup(): Promise<Communicator> {
    return comms.dup(this.collective, this.make).then();
  }

  /**
   * Collective over the live members: a new communicator of the members still alive, in their old
   * order (ULFM's shrink; under dsrun the coordinator decides who is alive). See docs/faults.md.
   */
  shrink(): Promise<Communicator> {
    return shrinkComm(this.scope, this.make);
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
    return agreeComm(this.scope, flag);
  }

  /** Frees the communicator on this rank, once its operations are done (MPI_Comm_free). */
  free(): void {
    comms.free(this.collective, this.p2p);
  }

  /** Collective: a shared counter hosted by `root`, updated atomically by every member (docs/one-sided.md). */
  counter(options: CounterOptions = {}): Promise<Counter> {
    return createCounter(this.collective, options).then();
  }

  /** Collective: a window of `length` slots hosted by `root` (docs/one-sided.md). */
  window<T = number>(options: WindowOptions<T>): Promise<Window<T>> {
    return createWindow<T>(this.collective, options).then();
  }

  // --- end of collectives, communicators and one-sided ---
}

const NO_OPERATION = { end(): void {} };

function fmtSource(source: number): string {
  return source === ANY_SOURCE ? 'ANY_SOURCE' : String(source);
}

function fmtTag(tag: number): string {
  return tag === ANY_TAG ? 'ANY_TAG' : String(tag);
}
