import type { Clock } from './clock.ts';
import { ANY_SOURCE, ANY_TAG, PROC_NULL, TAG_UB } from './constants.ts';
import type { Engine } from './engine.ts';
import { DsError, ErrorCode } from './errors.ts';
import type { Matcher, Message, Status } from './matching.ts';
import { describe, type Describe } from './payload.ts';
import { Request, type Completion, type PendingOperation } from './request.ts';
import { Kind } from './wire.ts';

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

/** The members a PointToPoint talks to, by index. */
export interface Peers {
  /** World rank of each member, by index; an intercomm's list grows as it spawns. */
  readonly world: readonly number[];
  /**
   * True when the engine delivers this context's messages by world rank (an intercomm, whose remote
   * group grows): indices are translated here. False: the engine already gives member indices.
   */
  readonly byWorld: boolean;
  /** What error messages call a member ('rank', 'remote rank'). */
  readonly noun: string;
  /** A communicator's point-to-point context: under flow control (runtime/flow-control.ts). */
  readonly flow: boolean;
}

/**
 * The one matching path of the runtime: sends and receives on one context, checked alike for
 * communicators, intercommunicators and collectives. Argument errors throw at once (before any I/O);
 * a dead or retired peer rejects.
 */
export class PointToPoint {
  readonly engine: Engine;
  readonly context: number;
  readonly matcher: Matcher;
  readonly clock: Clock;
  private readonly peers: Peers;
  /** World rank → member index, when the engine delivers by world rank (an intercomm). */
  private readonly index: Map<number, number> | undefined;
  /** An intercomm's posted operations by the caller's own: the posted ones translate the source. */
  private readonly wrappers: WeakMap<object, Completion<never>> | undefined;
  /** Set by free(): every later operation throws DS_ERR_CLOSED. */
  closed = false;

  constructor(engine: Engine, context: number, peers: Peers, group?: readonly number[]) {
    this.engine = engine;
    this.context = context;
    this.clock = engine.clock;
    this.peers = peers;
    this.index = peers.byWorld ? new Map() : undefined;
    this.wrappers = peers.byWorld ? new WeakMap() : undefined;
    this.matcher = engine.openContext(context, group, peers.flow);
  }

  get size(): number {
    return this.peers.world.length;
  }

  /** An intercomm's new members (their indices follow the existing ones). */
  indexMembers(from: number): void {
    for (let i = from; i < this.peers.world.length; i++) this.index!.set(this.peers.world[i], i);
  }

  /** Sends `data` to `dest` with `tag`; resolves once the message is handed to the network. */
  send(data: unknown, dest: number, tag: number, what: Describe): Promise<void> {
    this.checkRank(dest, what, false);
    this.checkTag(tag, what, false);
    this.checkOpen(what);
    if (dest === PROC_NULL) return Promise.resolve();
    const sent = this.sendTo(this.peers.world[dest], tag, data, what);
    if (sent === undefined) return Promise.resolve();
    return this.held(sent, { description: heldSend(dest, tag), startedAt: this.clock.now() });
  }

  /** Non-blocking send: a request, complete at once unless backpressure holds the message. */
  isend(data: unknown, dest: number, tag: number, what: Describe): Request<void> {
    this.checkRank(dest, what, false);
    this.checkTag(tag, what, false);
    this.checkOpen(what);
    if (dest === PROC_NULL) return SENT;
    const sent = this.sendTo(this.peers.world[dest], tag, data, what);
    if (sent === undefined) return SENT;
    const request = new Request<void>(heldSend(dest, tag), this.clock.now());
    this.held(sent, request).then(
      () => request.resolve(),
      (err) => request.reject(err),
    );
    return request;
  }

  /** A send that backpressure holds shows in --timeout reports (as `op`) until it completes. */
  private held(sent: Promise<void>, op: PendingOperation): Promise<void> {
    this.engine.inflight.add(op);
    const done = (): void => void this.engine.inflight.delete(op);
    sent.then(done, done);
    return sent;
  }

  private sendTo(world: number, tag: number, data: unknown, what: Describe): void | Promise<void> {
    if (this.peers.flow) return this.engine.sendPointToPoint(world, this.context, tag, data, what);
    return this.engine.send(world, Kind.Message, this.context, tag, data, what);
  }

  recv<T>(source: number, tag: number, options: RecvOptions, what: () => string): Promise<Message<T>> {
    this.checkRank(source, what, true);
    this.checkTag(tag, what, true);
    this.checkTimeout(options.timeoutMs, what);
    this.checkOpen(what);
    if (source === PROC_NULL) return Promise.resolve({ source: PROC_NULL, tag: ANY_TAG, data: undefined as T });
    const ready = this.receiveNow(source, tag, options.into, what);
    if (ready) return Promise.resolve(ready as Message<T> | Promise<Message<T>>);
    const description = what();
    // A bare promise rather than a Request: the common blocking case stays on V8's fast await path.
    return new Promise((resolve, reject) => {
      const op = { description, startedAt: this.clock.now(), resolve, reject };
      this.postReceive(source, tag, op as Completion<Message>, options, description);
    });
  }

  irecv<T>(source: number, tag: number, options: RecvOptions, what: string): Request<Message<T>> {
    this.checkRank(source, what, true);
    this.checkTag(tag, what, true);
    this.checkTimeout(options.timeoutMs, what);
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
    const request: Request<Message<T>> = new Request(what, now, () => this.withdraw(request));
    this.postReceive(source, tag, request as Request<Message>, options, what);
    return request;
  }

  probe(source: number, tag: number, options: RecvOptions, what: string): Request<Status> {
    this.checkRank(source, what, true);
    this.checkTag(tag, what, true);
    this.checkTimeout(options.timeoutMs, what);
    this.checkOpen(what);
    const now = this.clock.now();
    const ready = this.peek(source, tag);
    if (ready) return Request.resolved(what, now, ready);
    const request: Request<Status> = new Request(what, now, () => this.withdraw(request));
    const clearTimer = this.timer(request, options.timeoutMs, what);
    this.matcher.postProbe({ source: this.key(source), tag, request: this.translating(request, (st) => this.status(st)), clearTimer });
    return request;
  }

  iprobe(source: number, tag: number, what: string): Status | undefined {
    this.checkRank(source, what, true);
    this.checkTag(tag, what, true);
    this.checkOpen(what);
    return this.peek(source, tag);
  }

  /** The status of a waiting message from member `source` (or ANY_SOURCE), without taking it. */
  private peek(source: number, tag: number): Status | undefined {
    const m = this.matcher.peek(this.key(source), tag);
    return m ? this.status(m) : undefined;
  }

  /** A receive completed by a message already here (its data may still have to come: a large message). */
  private receiveNow(source: number, tag: number, into: Uint8Array | undefined, what: Describe): Message | Promise<Message> | undefined {
    if (into !== undefined && !(into instanceof Uint8Array)) {
      throw new DsError(ErrorCode.InvalidArgument, `${describe(what)}: into must be a Uint8Array`);
    }
    let got: Message | Promise<Message> | undefined;
    try {
      got = this.matcher.receive(this.key(source), tag, into);
    } catch (err) {
      return Promise.reject(err);
    }
    if (!got || !this.index) return got;
    return got instanceof Promise ? got.then((m) => this.fromWorld(m)) : this.fromWorld(got);
  }

  /** Takes a waiting message from member `source` (or ANY_SOURCE), its source a member index. */
  take(source: number, tag: number): Message | undefined {
    const m = this.matcher.take(this.key(source), tag);
    return m && this.index ? this.fromWorld(m) : m;
  }

  /**
   * Posts a receive that the matcher completes (with a member index as the source). Rejects it at
   * once if `source` is dead or has retired; `clearTimer` is called when it completes.
   */
  post(source: number, tag: number, op: Completion<Message>, what: string, clearTimer?: () => void, into?: Uint8Array): void {
    const gone = this.unreachable(source, what);
    if (gone) {
      clearTimer?.();
      op.reject(gone);
      return;
    }
    this.matcher.post({ source: this.key(source), tag, request: this.translating(op, (m) => this.fromWorld(m)), into, clearTimer });
  }

  /** Withdraws a posted receive or probe (cancelled, timed out); false if it has completed. */
  withdraw(op: PendingOperation): boolean {
    return this.matcher.withdraw(this.wrappers?.get(op) ?? op);
  }

  /**
   * What the matcher holds for `op`: `op` itself, or for an intercomm (whose matcher sees world
   * ranks) a stand-in that completes it with the source as a member index.
   */
  private translating<T>(op: Completion<T>, map: (value: T) => T): Completion<T> {
    if (!this.wrappers) return op;
    const wrapper: Completion<T> = {
      description: op.description,
      startedAt: op.startedAt,
      resolve: (value: T) => op.resolve(map(value)),
      reject: (err: unknown) => op.reject(err),
    };
    this.wrappers.set(op, wrapper as Completion<never>);
    return wrapper;
  }

  /** Why nothing more can come from member `source`: it is dead or has retired; undefined if it can. */
  unreachable(source: number, what: string): DsError | undefined {
    if (source === ANY_SOURCE) return undefined;
    const world = this.peers.world[source];
    if (this.engine.dead.has(world)) return new DsError(ErrorCode.PeerLost, `${what}: ${this.peers.noun} ${source} is dead`);
    if (this.engine.retired.has(world)) return new DsError(ErrorCode.Retired, `${what}: ${this.peers.noun} ${source} has retired`);
    return undefined;
  }

  /** Fails every receive and probe of this context (the communicator was freed). */
  close(): void {
    this.closed = true;
    this.engine.closeContext(this.context);
  }

  private postReceive(source: number, tag: number, op: Completion<Message>, options: RecvOptions, what: string): void {
    if (this.unreachable(source, what)) {
      this.post(source, tag, op, what);
      return;
    }
    this.post(source, tag, op, what, this.timer(op, options.timeoutMs, what), options.into);
  }

  private key(source: number): number {
    return this.index && source !== ANY_SOURCE ? this.peers.world[source] : source;
  }

  private fromWorld(m: Message): Message {
    return { source: this.index!.get(m.source) ?? -1, tag: m.tag, data: m.data };
  }

  private status(m: Status): Status {
    return { source: this.index ? (this.index.get(m.source) ?? -1) : m.source, tag: m.tag };
  }

  /** Starts a timeout timer for a pending request; returns its canceller. */
  private timer(
    request: PendingOperation & { reject(err: unknown): void },
    timeoutMs: number | undefined,
    what: string,
  ): (() => void) | undefined {
    if (timeoutMs === undefined) return undefined;
    return this.clock.setTimer(timeoutMs, () => {
      if (this.withdraw(request)) {
        request.reject(new DsError(ErrorCode.Timeout, `${what} timed out after ${timeoutMs} ms`));
      }
    });
  }

  private checkTimeout(timeoutMs: number | undefined, what: Describe): void {
    if (timeoutMs === undefined || timeoutMs >= 0) return;
    throw new DsError(ErrorCode.InvalidArgument, `${describe(what)}: timeoutMs must be a number >= 0, got ${timeoutMs}`);
  }

  checkOpen(what: Describe): void {
    if (this.closed) throw new DsError(ErrorCode.Closed, `${describe(what)}: the communicator was freed`);
    if (this.engine.isRevoked(this.context)) throw new DsError(ErrorCode.Revoked, `${describe(what)}: the communicator was revoked`);
  }

  checkRank(rank: number, what: Describe, wildcard: boolean): void {
    if (Number.isInteger(rank) && ((rank >= 0 && rank < this.size) || rank === PROC_NULL)) return;
    if (wildcard && rank === ANY_SOURCE) return;
    throw new DsError(
      ErrorCode.InvalidRank,
      `${describe(what)}: ${this.peers.noun} ${String(rank)} is not valid; size is ${this.size} (${this.peers.noun}s 0..${this.size - 1}` +
        `${wildcard ? ', ANY_SOURCE' : ''} or PROC_NULL)`,
    );
  }

  checkTag(tag: number, what: Describe, wildcard: boolean): void {
    if (Number.isInteger(tag) && tag >= 0 && tag <= TAG_UB) return;
    if (wildcard && tag === ANY_TAG) return;
    throw new DsError(
      ErrorCode.InvalidArgument,
      `${describe(what)}: tag ${String(tag)} is not valid; tags are integers 0..${TAG_UB}${wildcard ? ' or ANY_TAG' : ''}`,
    );
  }
}

const heldSend = (dest: number, tag: number): string => `send(dest=${dest}, tag=${tag}) held by backpressure`;

/** What every send that went straight to the network returns: a request already complete. */
const SENT = Request.resolved<void>('send', 0, undefined);
