import type { CommScope } from './comm-scope.ts';
import { ANY_SOURCE } from './constants.ts';
import type { Engine } from './engine.ts';
import { DsError, ErrorCode, isDsError } from './errors.ts';
import { InProgress } from './in-progress.ts';
import type { Matcher, Message, PostedReceive } from './matching.ts';
import { PointToPoint } from './point-to-point.ts';
import { assertPlainData } from './payload.ts';
import { knomialNode } from './knomial.ts';
import { ARRIVALS, barrierPolls, clearAsleep, flagAsleep, GENERATION, SLEEPER_BASE } from './protocol/thread-rings.ts';
import { checkOperand, resolveOp, type ReduceOp } from './reduce-ops.ts';
import { Request, type Completion } from './request.ts';
import { Kind } from './wire.ts';

/**
 * Collective operations. They run on the communicator's collective context (`context + 1`), so they
 * never match point-to-point traffic, wildcard receives included. Ranks call collectives in the same
 * order, so each call takes the next number of a per-communicator sequence; the tag of every message
 * is `seq * STEPS + step`, which keeps consecutive (and concurrent non-blocking) calls apart.
 * All algorithms take O(log p) rounds except alltoall (one round of p - 1 messages). With a
 * collective radix k (engine.collectiveRadix, set when ranks outnumber cores), barrier, bcast,
 * reduce and allreduce use k-nomial trees instead, which send the fewest messages (knomial.ts).
 */

const STEPS = 64;
const SEQ_SPAN = 1 << 24; // STEPS * SEQ_SPAN <= 2^30, a valid tag
const FOLD_IN = 0;
const FOLD_OUT = STEPS - 1;
const FORWARD = STEPS - 2;

/** What the collectives need of a communicator (the Communicator facade is one). */
export interface CollectiveComm {
  readonly rank: number;
  readonly size: number;
  readonly engine: Engine;
  readonly collective: CollectiveState;
}

/** Collective state of one communicator: its context's matcher and the call sequence. */
export class CollectiveState {
  readonly scope: CommScope;
  readonly context: number;
  /** The collective context's point-to-point path (its matcher, dead-peer checks). */
  readonly p2p: PointToPoint;
  readonly matcher: Matcher;
  /** Calls in progress. */
  readonly active = new InProgress<CollectiveOp>();
  freed = false;
  /** The world's barrier arrival counter in shared memory (dsrun --threads), for barrierShared. */
  readonly arrivals: Int32Array | undefined;
  /** The last barrier this rank started, when barriers use `arrivals`. */
  lastBarrier: Request<void> | undefined;
  private seq = 0;

  constructor(scope: CommScope) {
    this.scope = scope;
    this.context = scope.context + 1;
    const world = scope.isWorld;
    this.p2p = new PointToPoint(
      scope.engine,
      this.context,
      { world: scope.group, byWorld: false, noun: 'rank', flow: false },
      world ? undefined : scope.group,
    );
    this.matcher = this.p2p.matcher;
    this.arrivals = world && scope.context === 0 ? scope.engine.worldArrivals : undefined;
    scope.rankContext.addLossListener(this);
  }

  get group(): readonly number[] {
    return this.scope.group;
  }

  /** A member was lost: every collective in progress fails. */
  memberLost(local: number, reason: string): void {
    this.failAll((what) => new DsError(ErrorCode.PeerLost, `${what}: rank ${local} of the communicator was lost (${reason})`));
  }

  /**
   * Starts one collective call: takes the next sequence number now (so the call order is the order
   * of the calls, not of their completion) and runs `body`. Throws DS_ERR_CLOSED at once on a freed
   * communicator; rejects with DS_ERR_PEER_LOST if a member is dead or dies meanwhile.
   */
  start<T>(what: string, body: (op: CollectiveOp) => Promise<T>): Request<T> {
    const engine = this.scope.engine;
    if (this.freed) throw new DsError(ErrorCode.Closed, `${what}: the communicator was freed`);
    if (this.scope.engine.isRevoked(this.scope.context)) throw new DsError(ErrorCode.Revoked, `${what}: the communicator was revoked`);
    const seq = this.seq;
    this.seq = (this.seq + 1) % SEQ_SPAN;
    const request = new Request<T>(what, engine.clock.now());
    const deadMember = engine.dead.size === 0 ? -1 : this.scope.group.findIndex((w) => engine.dead.has(w));
    if (deadMember >= 0) {
      request.reject(new DsError(ErrorCode.PeerLost, `${what}: rank ${deadMember} of the communicator is dead`));
      return request;
    }
    const op = new CollectiveOp(this, seq, what);
    this.active.add(op);
    engine.inflight.add(request);
    const succeed = (value: T): void => {
      this.active.delete(op);
      engine.inflight.delete(request);
      request.resolve(value);
    };
    const fail = (err: unknown): void => {
      this.active.delete(op);
      engine.inflight.delete(request);
      op.fail(err instanceof Error ? err : new Error(String(err)));
      request.reject(err);
    };
    let running: Promise<T>;
    try {
      running = body(op);
    } catch (err) {
      running = Promise.reject(err);
    }
    running.then((value) => {
      if (op.holdsSends) op.flushed().then(() => succeed(value), fail);
      else succeed(value);
    }, fail);
    return request;
  }

  /** Fails every collective in progress (a member died, or the communicator was freed). */
  failAll(error: (what: string) => Error): void {
    for (const op of [...this.active.all]) op.fail(error(op.what));
  }
}

/** One collective call in progress: sends and receives of its own tags. */
export class CollectiveOp {
  readonly state: CollectiveState;
  readonly seq: number;
  readonly what: string;
  readonly rank: number;
  readonly size: number;
  /** Sends held by backpressure (made on the first). */
  private sends: Promise<void>[] | undefined;
  private failure: Error | undefined;

  constructor(state: CollectiveState, seq: number, what: string) {
    this.state = state;
    this.seq = seq;
    this.what = what;
    this.rank = state.scope.rank;
    this.size = state.scope.size;
  }

  send(dest: number, step: number, data: unknown): void {
    if (this.failure) throw this.failure;
    const { scope, context } = this.state;
    const sent = scope.engine.send(scope.group[dest], Kind.Message, context, this.seq * STEPS + step, data, this.what);
    if (sent) (this.sends ??= []).push(sent);
  }

  recv(source: number, step: number): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const { p2p, matcher } = this.state;
    const tag = this.seq * STEPS + step;
    const ready = p2p.take(source, tag);
    if (ready) return Promise.resolve(ready.data);
    // (From ANY_SOURCE: start() already refused a communicator with a dead member, and failAll() fails this call if one dies.)
    const gone = p2p.unreachable(source, this.what);
    if (gone) return Promise.reject(gone);
    // A bare promise the matcher settles directly: no Request and no extra promise per message.
    return new Promise((resolve, reject) => matcher.post(new PostedRecv(this, source, tag, p2p.clock.now(), resolve, reject)));
  }

  /**
   * Sends the same data to the children of this rank in a tree rooted at `root` (virtual ranks, as
   * knomialNode gives them), the last (farthest subtree) first. The message is encoded once.
   */
  sendToChildren(children: readonly number[], root: number, step: number, data: unknown): void {
    const n = children.length;
    this.sendEach(n, (i) => (children[n - 1 - i] + root) % this.size, step, data);
  }

  /**
   * Receives one message from each child of this rank in a tree rooted at `root` (virtual ranks):
   * their data in the order of `children`. One promise for them all, settled by the last to arrive.
   */
  recvFromChildren(children: readonly number[], root: number, step: number): Promise<unknown[]> {
    if (this.failure) return Promise.reject(this.failure);
    const { p2p, matcher } = this.state;
    const tag = this.seq * STEPS + step;
    const out = new Array<unknown>(children.length);
    return new Promise((resolve, reject) => {
      let missing = 0;
      const arrived = (data: unknown, index: number): void => {
        out[index] = data;
        if (--missing === 0) resolve(out);
      };
      const now = p2p.clock.now();
      for (let i = 0; i < children.length; i++) {
        const source = (children[i] + root) % this.size;
        const ready = p2p.take(source, tag);
        if (ready) {
          out[i] = ready.data;
          continue;
        }
        const gone = p2p.unreachable(source, this.what);
        if (gone) {
          // What is already posted is withdrawn when the call fails (fail()).
          reject(gone);
          return;
        }
        missing++;
        matcher.post(new PostedRecv(this, source, tag, now, arrived, reject, i));
      }
      if (missing === 0) resolve(out);
    });
  }

  /** Sends the same data to every other member, encoded once. */
  sendToOthers(step: number, data: unknown): void {
    this.sendEach(this.size - 1, (i) => (this.rank + 1 + i) % this.size, step, data);
  }

  /** Sends the same data, encoded once, to `count` members: `dest(0)`, `dest(1)`, … in that order. */
  private sendEach(count: number, dest: (i: number) => number, step: number, data: unknown): void {
    if (this.failure) throw this.failure;
    if (count === 0) return;
    const { scope, context } = this.state;
    const bytes = scope.engine.encode(Kind.Message, context, this.seq * STEPS + step, data, this.what);
    for (let i = 0; i < count; i++) {
      const sent = scope.engine.deliver(scope.group[dest(i)], bytes, this.what);
      if (sent) (this.sends ??= []).push(sent);
    }
  }

  /** The error this call failed with, if it has. */
  get failed(): Error | undefined {
    return this.failure;
  }

  /** True if a send is held by backpressure. */
  get holdsSends(): boolean {
    return this.sends !== undefined;
  }

  /** Waits for sends held by backpressure. */
  async flushed(): Promise<void> {
    await Promise.all(this.sends ?? []);
  }

  /** Withdraws every receive still posted and makes the call fail with `err`. */
  fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    const { matcher } = this.state;
    for (const r of matcher.waiting()) {
      if (r instanceof PostedRecv && r.op === this && matcher.withdraw(r)) r.reject(err);
    }
    for (const s of this.sends ?? []) s.catch(() => {});
  }
}

/**
 * A receive of a collective call waiting in the matcher: its own matcher entry (source, tag) and the
 * completion the matcher settles, which hands the message's data to the call's promise.
 */
class PostedRecv implements PostedReceive, Completion<Message> {
  readonly op: CollectiveOp;
  readonly source: number;
  readonly tag: number;
  readonly startedAt: number;
  readonly request: Completion<Message> = this;
  private readonly onData: (data: unknown, index: number) => void;
  private readonly onError: (err: unknown) => void;
  /** Place of this receive among those of one recvFromChildren call. */
  private readonly index: number;

  constructor(
    op: CollectiveOp,
    source: number,
    tag: number,
    startedAt: number,
    onData: (data: unknown, index: number) => void,
    onError: (err: unknown) => void,
    index = 0,
  ) {
    this.op = op;
    this.source = source;
    this.tag = tag;
    this.startedAt = startedAt;
    this.onData = onData;
    this.onError = onError;
    this.index = index;
  }

  /** Built only when a --timeout report or an error asks for it. */
  get description(): string {
    const { what, state, size } = this.op;
    if (this.source !== ANY_SOURCE) return `${what}: waiting for rank ${this.source}`;
    // Only barrierShared receives from any rank; its counter holds this barrier's arrivals.
    const missing = state.arrivals ? size - Atomics.load(state.arrivals, 0) : NaN;
    return `${what}: waiting for ${missing} of ${size} ranks to arrive`;
  }

  resolve(m: Message): void {
    this.onData(m.data, this.index);
  }

  reject(err: unknown): void {
    this.onError(err);
  }
}

/** Frees the collective side of a communicator (communicator.free()). */
export function freeCollectives(state: CollectiveState): void {
  if (state.freed) return;
  state.freed = true;
  state.failAll((what) => new DsError(ErrorCode.Closed, `${what}: the communicator was freed`));
  state.scope.rankContext.removeLossListener(state);
  state.p2p.close();
}

// --- argument checks (programmer errors throw at once, before any I/O) ---

function checkRoot(comm: CollectiveComm, root: number, what: string): void {
  if (Number.isInteger(root) && root >= 0 && root < comm.size) return;
  throw new DsError(
    ErrorCode.InvalidRank,
    `${what}: root ${String(root)} is not a rank of this communicator; size is ${comm.size} (ranks 0..${comm.size - 1})`,
  );
}

function checkChunks(comm: CollectiveComm, chunks: unknown, what: string): asserts chunks is unknown[] {
  if (Array.isArray(chunks) && chunks.length === comm.size) return;
  const got = Array.isArray(chunks) ? `${chunks.length} chunks` : kindOf(chunks);
  throw new DsError(ErrorCode.InvalidArgument, `${what}: needs an array of exactly ${comm.size} chunks (one per rank), got ${got}`);
}

function opName(op: unknown): string {
  return typeof op === 'function' ? 'function' : String(op);
}

function kindOf(value: unknown): string {
  return value === null ? 'null' : typeof value;
}

// --- reduction values travel wrapped, so a failed op reaches every rank instead of hanging it ---

type Wrapped = [0, unknown] | [1, string];

function combiner(combine: (a: unknown, b: unknown) => unknown): (a: Wrapped, b: Wrapped) => Wrapped {
  return (a, b) => {
    if (a[0] === 1) return a;
    if (b[0] === 1) return b;
    try {
      return [0, combine(a[1], b[1])];
    } catch (err) {
      return [1, isDsError(err) ? err.message : `the reduction function threw: ${(err as Error)?.message ?? String(err)}`];
    }
  };
}

function unwrap(what: string, w: Wrapped): unknown {
  if (w[0] === 1) throw new DsError(ErrorCode.OpFailed, `${what}: ${w[1]}`);
  return w[1];
}

// --- algorithms, on ranks of the communicator ---

/** Dissemination barrier: ceil(log2 p) rounds. */
export async function barrierAlgo(op: CollectiveOp): Promise<void> {
  const { rank: r, size: p } = op;
  for (let d = 1, k = 0; d < p; d <<= 1, k++) {
    op.send((r + d) % p, k, null);
    await op.recv((r - d + p) % p, k);
  }
}

/**
 * k-nomial reduction to virtual rank 0 (rank `root` after rotation); k = 2 is the binomial tree.
 * Each node's value covers a contiguous run of virtual ranks and its children's runs follow in
 * order (knomial.ts), so combining them in that order keeps rank order.
 */
async function reduceKnomial(
  op: CollectiveOp,
  value: Wrapped,
  root: number,
  f: (a: Wrapped, b: Wrapped) => Wrapped,
  k: number,
): Promise<Wrapped | undefined> {
  const { rank: r, size: p } = op;
  const { parent, children } = knomialNode((r - root + p) % p, p, k);
  const got = children.length > 0 ? await op.recvFromChildren(children, root, 0) : [];
  let acc = value;
  for (const g of got) acc = f(acc, g as Wrapped);
  if (parent < 0) return acc;
  op.send((parent + root) % p, 0, acc);
  return undefined;
}

/** k-nomial broadcast from `root` (k = 2: binomial), the farthest subtree first. */
async function bcastKnomial<T>(op: CollectiveOp, data: T, root: number, k: number, step: number): Promise<T> {
  const { rank: r, size: p } = op;
  const { parent, children } = knomialNode((r - root + p) % p, p, k);
  if (parent >= 0) data = (await op.recv((parent + root) % p, step)) as T;
  op.sendToChildren(children, root, step, data);
  return data;
}

/**
 * Barrier of a world whose ranks are threads of one process (dsrun --threads). Each rank counts
 * itself in a counter in shared memory; the last to arrive resets it and releases the others.
 * Arrivals wake no one, where a tree's root wakes for many (Open MPI's coll/sm works the same way).
 * A rank counts itself in only once its previous barrier has ended on it, so one count never mixes
 * two barriers: that barrier ends as soon as everyone has entered it, which does not depend on this
 * one. Without polling, the release is one message to each of the others. With polling (ranks no
 * more than cores), the last to arrive bumps a generation word that the others spin on (released),
 * and sends a message only to those that stopped spinning and sleep in this barrier (their flag
 * names its generation: flagAsleep in runtime/protocol/thread-rings.ts).
 */
export async function barrierShared(op: CollectiveOp, arrivals: Int32Array, previous: Request<void> | undefined): Promise<void> {
  if (previous && !previous.done) await previous;
  if (op.failed) throw op.failed;
  const polls = barrierPolls(arrivals);
  // Stable until the last of this barrier arrives: the previous one has ended on this rank.
  const generation = polls ? Atomics.load(arrivals, GENERATION) : 0;
  if (Atomics.add(arrivals, ARRIVALS, 1) === op.size - 1) {
    Atomics.store(arrivals, ARRIVALS, 0);
    if (!polls) {
      op.sendToOthers(1, null);
      return;
    }
    Atomics.add(arrivals, GENERATION, 1);
    for (let r = 0; r < op.size; r++) {
      // Only a rank asleep in this barrier: one it released may already sleep in the next.
      if (Atomics.load(arrivals, SLEEPER_BASE + r) !== 0 && clearAsleep(arrivals, r, generation)) op.send(r, 1, null);
    }
    return;
  }
  if (polls && (await released(op, arrivals, generation))) return;
  try {
    await op.recv(ANY_SOURCE, 1);
  } finally {
    if (polls) Atomics.store(arrivals, SLEEPER_BASE + op.rank, 0);
  }
}

/**
 * Spins until the generation word moves on from `generation` (true), on the rank's polling chain
 * (Engine.spinUntil: the same turns read the rank's rings), for at most the busy-polling budget;
 * then flags this rank asleep (false: a message will release it). Either the last to arrive sees
 * the flag, or this rank sees the new generation after raising it; whichever clears the flag first
 * decides whether the message is sent.
 */
async function released(op: CollectiveOp, arrivals: Int32Array, generation: number): Promise<boolean> {
  const moved = (): boolean => Atomics.load(arrivals, GENERATION) !== generation;
  if (await op.state.scope.engine.spinUntil(() => moved() || op.failed !== undefined)) {
    if (op.failed) throw op.failed;
    return true;
  }
  if (op.failed) throw op.failed;
  flagAsleep(arrivals, op.rank, generation);
  if (!moved()) return false;
  return clearAsleep(arrivals, op.rank, generation);
}

/** Tree barrier: everyone reports to rank 0 up a k-nomial tree, then rank 0 releases them down it. */
export async function barrierKnomial(op: CollectiveOp, k: number): Promise<void> {
  const { rank: r, size: p } = op;
  const { parent, children } = knomialNode(r, p, k);
  if (children.length > 0) await op.recvFromChildren(children, 0, 0);
  if (parent >= 0) {
    op.send(parent, 0, null);
    await op.recv(parent, 1);
  }
  op.sendToChildren(children, 0, 1, null);
}

/** Reduction on a k-nomial tree (k = 2: binomial). */
export async function reduceAlgo(op: CollectiveOp, data: unknown, reduceOp: ReduceOp, root: number, k: number): Promise<unknown> {
  const f = combiner(resolveOp(reduceOp, op.what));
  if (typeof reduceOp !== 'function' || root === 0) {
    // Built-in ops are commutative: the rotated tree's order does not matter.
    const acc = await reduceKnomial(op, [0, data], root, f, k);
    return acc === undefined ? undefined : unwrap(op.what, acc);
  }
  // A user function may not be commutative: reduce in rank order at rank 0, then forward to root.
  const acc = await reduceKnomial(op, [0, data], 0, f, k);
  if (op.rank === 0) {
    op.send(root, FORWARD, acc);
    return undefined;
  }
  if (op.rank === root) return unwrap(op.what, (await op.recv(0, FORWARD)) as Wrapped);
  return undefined;
}

/** Allreduce as a k-nomial reduce to rank 0 and a k-nomial broadcast back: 2(p − 1) messages. */
export async function allreduceKnomial(op: CollectiveOp, data: unknown, reduceOp: ReduceOp, k: number): Promise<unknown> {
  const f = combiner(resolveOp(reduceOp, op.what));
  const acc = await reduceKnomial(op, [0, data], 0, f, k);
  return unwrap(op.what, await bcastKnomial(op, acc as Wrapped, 0, k, 1));
}

/**
 * Recursive-doubling allreduce. With p not a power of two, the first 2·rem ranks fold pairwise
 * (even into odd) before and unfold after, so pof2 ranks double (MPICH's scheme). Partners' values
 * cover contiguous rank runs, combined lower-first, so non-commutative functions are right.
 */
export async function allreduceAlgo(op: CollectiveOp, data: unknown, reduceOp: ReduceOp): Promise<unknown> {
  const f = combiner(resolveOp(reduceOp, op.what));
  const { rank: r, size: p } = op;
  let pof2 = 1;
  while (pof2 * 2 <= p) pof2 *= 2;
  const rem = p - pof2;
  let acc: Wrapped = [0, data];
  let newrank: number;
  if (r < 2 * rem) {
    if (r % 2 === 0) {
      op.send(r + 1, FOLD_IN, acc);
      newrank = -1;
    } else {
      acc = f((await op.recv(r - 1, FOLD_IN)) as Wrapped, acc);
      newrank = r >> 1;
    }
  } else {
    newrank = r - rem;
  }
  if (newrank >= 0) {
    for (let mask = 1, k = 1; mask < pof2; mask <<= 1, k++) {
      const partner = newrank ^ mask;
      const dest = partner < rem ? partner * 2 + 1 : partner + rem;
      op.send(dest, k, acc);
      const got = (await op.recv(dest, k)) as Wrapped;
      acc = partner < newrank ? f(got, acc) : f(acc, got);
    }
  }
  if (r < 2 * rem) {
    if (r % 2 === 1) op.send(r - 1, FOLD_OUT, acc);
    else acc = (await op.recv(r + 1, FOLD_OUT)) as Wrapped;
  }
  return unwrap(op.what, acc);
}

/** Binomial-tree gather: each node forwards its subtree's items, already in rank order. */
export async function gatherAlgo(op: CollectiveOp, data: unknown, root: number): Promise<unknown[] | undefined> {
  const { rank: r, size: p } = op;
  const v = (r - root + p) % p;
  const items: unknown[] = [data];
  for (let mask = 1; mask < p; mask <<= 1) {
    if (v & mask) {
      op.send((v - mask + root) % p, 0, items);
      return undefined;
    }
    if (v + mask < p) items.push(...((await op.recv((v + mask + root) % p, 0)) as unknown[]));
  }
  const out = new Array<unknown>(p);
  for (let i = 0; i < p; i++) out[(i + root) % p] = items[i];
  return out;
}

/** Binomial-tree scatter: each node receives its subtree's chunks and hands halves down. */
export async function scatterAlgo(op: CollectiveOp, chunks: unknown[] | undefined, root: number): Promise<unknown> {
  const { rank: r, size: p } = op;
  const v = (r - root + p) % p;
  let blocks: unknown[];
  let mask = 1;
  if (v === 0) {
    blocks = Array.from({ length: p }, (_, i) => chunks![(i + root) % p]);
    while (mask < p) mask <<= 1;
  } else {
    while (!(v & mask)) mask <<= 1;
    blocks = (await op.recv((v - mask + root) % p, 0)) as unknown[];
  }
  for (mask >>= 1; mask > 0; mask >>= 1) {
    if (v + mask < p) op.send((v + mask + root) % p, 0, blocks.slice(mask, 2 * mask));
  }
  return blocks[0];
}

/** Bruck's allgather: ceil(log2 p) rounds for any p. */
export async function allgatherAlgo(op: CollectiveOp, data: unknown): Promise<unknown[]> {
  const { rank: r, size: p } = op;
  const blocks: unknown[] = [data];
  for (let d = 1, k = 0; d < p; d <<= 1, k++) {
    op.send((r - d + p) % p, k, blocks.slice(0, Math.min(d, p - d)));
    blocks.push(...((await op.recv((r + d) % p, k)) as unknown[]));
  }
  const out = new Array<unknown>(p);
  for (let i = 0; i < p; i++) out[(r + i) % p] = blocks[i];
  return out;
}

/** Alltoall: one round, a message to every other rank. */
export async function alltoallAlgo(op: CollectiveOp, chunks: unknown[]): Promise<unknown[]> {
  const { rank: r, size: p } = op;
  for (let j = 1; j < p; j++) op.send((r + j) % p, 0, chunks[(r + j) % p]);
  const out = new Array<unknown>(p);
  out[r] = chunks[r];
  const got = await Promise.all(Array.from({ length: p - 1 }, (_, j) => op.recv((r - 1 - j + p) % p, 0)));
  for (let j = 0; j < p - 1; j++) out[(r - 1 - j + p) % p] = got[j];
  return out;
}

/** Recursive-doubling (exclusive) prefix reduction, in rank order (MPICH's scan). */
export async function scanAlgo(op: CollectiveOp, data: unknown, reduceOp: ReduceOp, inclusive: boolean): Promise<unknown> {
  const f = combiner(resolveOp(reduceOp, op.what));
  const { rank: r, size: p } = op;
  let partial: Wrapped = [0, data];
  let result: Wrapped | undefined = inclusive ? partial : undefined;
  for (let mask = 1, k = 0; mask < p; mask <<= 1, k++) {
    const partner = r ^ mask;
    if (partner >= p) continue;
    op.send(partner, k, partial);
    const got = (await op.recv(partner, k)) as Wrapped;
    if (partner < r) {
      partial = f(got, partial);
      result = result === undefined ? got : f(got, result);
    } else {
      partial = f(partial, got);
    }
  }
  return result === undefined ? undefined : unwrap(op.what, result);
}

// --- the public calls (Communicator delegates here) ---

export function ibarrier(comm: CollectiveComm): Request<void> {
  const state = comm.collective;
  const arrivals = state.arrivals;
  if (arrivals) {
    const previous = state.lastBarrier;
    return (state.lastBarrier = state.start('barrier()', (op) => barrierShared(op, arrivals, previous)));
  }
  const k = comm.engine.collectiveRadix;
  return comm.collective.start('barrier()', (op) => (k ? barrierKnomial(op, k) : barrierAlgo(op)));
}

export function ibcast<T>(comm: CollectiveComm, data: T, root = 0): Request<T> {
  const what = `bcast(root=${root})`;
  checkRoot(comm, root, what);
  if (comm.rank === root) assertPlainData(data, what);
  const k = comm.engine.collectiveRadix;
  return comm.collective.start(what, (op) => bcastKnomial(op, data, root, k ?? 2, 0));
}

export function ireduce<T>(comm: CollectiveComm, data: T, reduceOp: ReduceOp<T> = 'sum', root = 0): Request<T | undefined> {
  const what = `reduce(op=${opName(reduceOp)}, root=${root})`;
  checkRoot(comm, root, what);
  resolveOp(reduceOp, what);
  checkOperand(reduceOp, data, what);
  assertPlainData(data, what);
  const k = comm.engine.collectiveRadix;
  return comm.collective.start(what, (op) => reduceAlgo(op, data, reduceOp, root, k ?? 2) as Promise<T | undefined>);
}

export function iallreduce<T>(comm: CollectiveComm, data: T, reduceOp: ReduceOp<T> = 'sum'): Request<T> {
  const what = `allreduce(op=${opName(reduceOp)})`;
  resolveOp(reduceOp, what);
  checkOperand(reduceOp, data, what);
  assertPlainData(data, what);
  const k = comm.engine.collectiveRadix;
  return comm.collective.start(
    what,
    (op) => (k ? allreduceKnomial(op, data, reduceOp, k) : allreduceAlgo(op, data, reduceOp)) as Promise<T>,
  );
}

export function igather<T>(comm: CollectiveComm, data: T, root = 0): Request<T[] | undefined> {
  const what = `gather(root=${root})`;
  checkRoot(comm, root, what);
  assertPlainData(data, what);
  return comm.collective.start(what, (op) => gatherAlgo(op, data, root) as Promise<T[] | undefined>);
}

export function iscatter<T>(comm: CollectiveComm, chunks: readonly T[] | undefined, root = 0): Request<T> {
  const what = `scatter(root=${root})`;
  checkRoot(comm, root, what);
  if (comm.rank === root) {
    checkChunks(comm, chunks, what);
    assertPlainData(chunks, what);
  }
  return comm.collective.start(what, (op) => scatterAlgo(op, chunks as unknown[] | undefined, root) as Promise<T>);
}

export function iallgather<T>(comm: CollectiveComm, data: T): Request<T[]> {
  const what = 'allgather()';
  assertPlainData(data, what);
  return comm.collective.start(what, (op) => allgatherAlgo(op, data) as Promise<T[]>);
}

export function ialltoall<T>(comm: CollectiveComm, chunks: readonly T[]): Request<T[]> {
  const what = 'alltoall()';
  checkChunks(comm, chunks, what);
  assertPlainData(chunks, what);
  return comm.collective.start(what, (op) => alltoallAlgo(op, chunks as unknown[]) as Promise<T[]>);
}

export function iscan<T>(comm: CollectiveComm, data: T, reduceOp: ReduceOp<T> = 'sum'): Request<T> {
  const what = `scan(op=${opName(reduceOp)})`;
  resolveOp(reduceOp, what);
  checkOperand(reduceOp, data, what);
  assertPlainData(data, what);
  return comm.collective.start(what, (op) => scanAlgo(op, data, reduceOp, true) as Promise<T>);
}

export function iexscan<T>(comm: CollectiveComm, data: T, reduceOp: ReduceOp<T> = 'sum'): Request<T | undefined> {
  const what = `exscan(op=${opName(reduceOp)})`;
  resolveOp(reduceOp, what);
  checkOperand(reduceOp, data, what);
  assertPlainData(data, what);
  return comm.collective.start(what, (op) => scanAlgo(op, data, reduceOp, false) as Promise<T | undefined>);
}
