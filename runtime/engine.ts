import type { Clock } from './clock.ts';
import { DsError, ErrorCode } from './errors.ts';
import { DEFAULT_RECV_BUFFER, FlowControl, LARGE_MESSAGE, MESSAGE_OVERHEAD, type FlowLink, type FlowWire } from './flow-control.ts';
import { InProgress } from './in-progress.ts';
import { Matcher } from './matching.ts';
import { assertPlainData, describe, type Describe } from './payload.ts';
import { seededRandom, type Random } from './random.ts';
import { MemoryStorage, type DurableStorage } from './storage.ts';
import type { PendingOperation } from './request.ts';
import { Kind, type Codec, type Envelope } from './wire.ts';
import type { Transport } from './transport.ts';
import type { TraceEvent } from './protocol/trace-event.ts';

/** A trace event as a rank records it: the owner of the trace adds `t`, `rank` and `lamport`. */
export type LocalTraceEvent = Omit<TraceEvent, 't' | 'rank' | 'lamport'>;

export interface EngineOptions {
  rank: number;
  size: number;
  transport: Transport;
  /** How messages become frame bytes and back (runtime/transport/codec.ts: msgpackCodec). */
  codec: Codec;
  clock: Clock;
  /** Job seed: every rank's random() stream derives from it and the rank. */
  seed: number;
  /** Carries out abort(): tell the launcher and stop (dsrun), or fail the local job. */
  abort: (code: number, reason: string) => void;
  /** Reports an error that does not stop the rank (bad frame, refused connection). */
  report?: (err: Error) => void;
  /** Records an event of this rank in the job's trace, when the job is traced (time, rank and Lamport time are added). */
  trace?: (event: LocalTraceEvent) => void;
  /** The rank's durable storage (comm.storage); default: in memory, lost with the process. */
  storage?: DurableStorage;
  /**
   * Radix of the k-nomial trees that barrier, bcast, reduce and allreduce use instead of their
   * latency-optimal algorithms (collectives.ts); undefined: those. The same on every rank.
   */
  collectiveRadix?: number;
  /**
   * dsrun --threads: the world's barrier arrival counter, in memory every rank shares (barrierShared
   * in collectives.ts); undefined: barriers are messages. The same choice on every rank.
   */
  worldArrivals?: Int32Array;
  /**
   * Bytes of one sender's point-to-point messages this rank keeps unmatched before the sender is
   * held back (runtime/flow-control.ts; default 64 MiB). The same on every rank.
   */
  recvBufferBytes?: number;
}

/** Handler of a non-Message kind (one-sided requests and replies), by world rank of the sender. */
export type KindHandler = (from: number, envelope: Envelope) => void;

interface Context {
  matcher: Matcher;
  /** World rank → rank in this communicator; undefined means the identity (the world itself). */
  toLocal: Map<number, number> | undefined;
  /** Its point-to-point messages are under flow control (runtime/flow-control.ts). */
  flow: boolean;
  /** World ranks of the members; undefined means the world. */
  group: readonly number[] | undefined;
  /** Revoked (comm.revoke()): what waits fails, and what arrives is dropped. */
  revoked: boolean;
}

/** Messages kept for a context this rank has not created yet (a split still finishing here). */
const EARLY_LIMIT = 100_000;
/** How far past this rank's next context id such a message may be (2048 communicators). */
const EARLY_WINDOW = 4096;

/**
 * The runtime core of one rank: routes frames from the transport to communicator contexts, sends
 * messages, and keeps track of dead peers. It does no I/O of its own: it is handed a Transport, a
 * Codec and a Clock.
 */
export class Engine {
  readonly rank: number;
  readonly size: number;
  readonly clock: Clock;
  readonly random: Random;
  readonly seed: number;
  readonly transport: Transport;
  readonly codec: Codec;
  /** Durable storage of this rank (survives a simulated crash-recovery). */
  readonly storage: DurableStorage;
  /** World ranks known to be dead. */
  readonly dead = new Set<number>();
  /** World ranks that have retired: left the job normally (runtime/spawn.ts). */
  readonly retired = new Set<number>();
  /** Operations in progress other than receives (sends held by backpressure, collectives). */
  readonly inflight = new InProgress<PendingOperation>();
  /** Context ids are allocated in blocks: even = point-to-point, odd = collectives. World is 0/1. */
  nextContextId = 2;
  private readonly contexts = new Map<number, Context>();
  private readonly early = new Map<number, Array<[number, Envelope, number]>>();
  /** Contexts revoked before this rank opened them. */
  private readonly revokedEarly = new Set<number>();
  /** Flow control of point-to-point messages; undefined on a transport that cannot have it (withoutFlowControl). */
  private readonly flow: FlowControl | undefined;
  /** Encoded length of each envelope of the frame being dispatched. */
  private readonly sizes: number[] = [];
  private earlyCount = 0;
  private readonly handlers = new Map<number, KindHandler>();
  private readonly peerLostListeners: Array<(rank: number, reason: string) => void> = [];
  private waitListener: (() => void) | undefined;
  private spinner: ((ready: () => boolean) => Promise<boolean>) | undefined;
  /** Operations marked so far by beginOperation (their numbers in the trace). */
  operations = 0;
  readonly collectiveRadix: number | undefined;
  readonly worldArrivals: Int32Array | undefined;
  /** Records into the job's trace; undefined when the job is not traced. */
  readonly trace: ((event: LocalTraceEvent) => void) | undefined;
  private readonly abortImpl: (code: number, reason: string) => void;
  private readonly reportImpl: (err: Error) => void;
  private closed = false;

  constructor(options: EngineOptions) {
    this.rank = options.rank;
    this.size = options.size;
    this.clock = options.clock;
    this.seed = options.seed;
    this.random = seededRandom(options.seed, options.rank);
    this.transport = options.transport;
    this.codec = options.codec;
    this.storage = options.storage ?? new MemoryStorage();
    this.abortImpl = options.abort;
    this.trace = options.trace;
    this.collectiveRadix = options.collectiveRadix;
    this.worldArrivals = options.worldArrivals;
    this.reportImpl = options.report ?? ((err) => console.error(`dsmpi: rank ${this.rank}: ${err.message}`));
    this.flow = this.transport.withoutFlowControl
      ? undefined
      : new FlowControl(
          options.recvBufferBytes ?? DEFAULT_RECV_BUFFER,
          this.transport.maxPayload,
          flowWire(options.codec),
          this.flowLink(),
        );
    this.transport.start({
      onFrame: (peer, frame) => this.onFrame(peer, frame),
      onPeerLost: (peer, reason) => this.peerLost(peer, reason),
      onError: (err) => this.reportImpl(err),
      onDropped: (peer, message) => this.faulted(peer, message, false),
      onDuplicated: (peer, message) => this.faulted(peer, message, true),
    });
  }

  /**
   * Injected faults lost (or `duplicated`) a message this rank sent to `peer`. A point-to-point
   * message sent eagerly gives its credit back (a copy is charged like a message of its own); a
   * lost request to send loses its held message whole, and that send completes as a lost one does.
   */
  private faulted(peer: number, message: Uint8Array, duplicated: boolean): void {
    const flow = this.flow;
    if (!flow) return;
    let kind: number, context: number, data: unknown;
    try {
      [kind, context, , data] = this.codec.decodeFrame(message)[0];
    } catch {
      return;
    }
    if (kind === Kind.Rts && !duplicated) {
      const id = Array.isArray(data) ? data[0] : undefined;
      if (isCount(id)) flow.requestLost(peer, id);
    } else if (kind === Kind.Message && this.contexts.get(context)?.flow) {
      const cost = message.length + MESSAGE_OVERHEAD;
      if (duplicated) flow.charge(peer, cost);
      else flow.refund(peer, cost);
    }
  }

  /** Flow control's way to the transport: nothing goes to a peer that is dead or has retired. */
  private flowLink(): FlowLink {
    const transport = this.transport;
    const gone = (peer: number): boolean => this.dead.has(peer) || this.retired.has(peer);
    return {
      send: (peer, bytes) => (gone(peer) ? undefined : transport.send(peer, bytes)),
      sendParts: transport.sendParts && ((peer, head, body) => (gone(peer) ? Promise.resolve() : transport.sendParts!(peer, head, body))),
    };
  }

  /**
   * Creates the matching state of a context; `group` lists the world ranks (undefined: the world).
   * With `flow`, its messages are point-to-point ones sent by sendPointToPoint, under flow control.
   */
  openContext(id: number, group?: readonly number[], flow = false): Matcher {
    if (this.contexts.has(id)) throw new Error(`context ${id} is already open`);
    const toLocal = group ? new Map(group.map((world, local) => [world, local])) : undefined;
    const control = flow ? this.flow : undefined;
    const release = control && ((source: number, cost: number) => control.released(group ? group[source] : source, cost));
    const ctx: Context = { matcher: new Matcher(release, () => this.waitListener?.()), toLocal, flow: !!control, group, revoked: false };
    this.contexts.set(id, ctx);
    if (id >= this.nextContextId) this.nextContextId = id + 1;
    if (this.revokedEarly.delete(id)) this.revokeContext(ctx, id);
    const waiting = this.early.get(id);
    if (waiting) {
      this.early.delete(id);
      this.earlyCount -= waiting.length;
      for (const [from, env, size] of waiting) this.dispatch(from, env, size);
    }
    return ctx.matcher;
  }

  closeContext(id: number): void {
    const ctx = this.contexts.get(id);
    if (!ctx) return;
    this.contexts.delete(id);
    ctx.matcher.failAll((d) => new DsError(ErrorCode.Closed, `${d}: the communicator was freed`));
  }

  /**
   * Revokes the communicator of point-to-point context `context` (and its collective context, the
   * next one) on this rank, and passes the news to every other member, once: what waits on it here
   * fails with DS_ERR_REVOKED, and what arrives for it is dropped. Each member passes it on in turn
   * (ULFM's reliable revoke), so it reaches every live member even if this rank dies meanwhile.
   */
  revoke(context: number): void {
    const ctx = this.contexts.get(context);
    if (!ctx) {
      if (context >= this.nextContextId && context < this.nextContextId + EARLY_WINDOW) this.revokedEarly.add(context);
      return;
    }
    if (ctx.revoked) return;
    this.revokeContext(ctx, context);
    const collective = this.contexts.get(context + 1);
    if (collective && !collective.revoked) this.revokeContext(collective, context + 1);
    const notice = this.codec.encodeMessage(Kind.Revoke, context, 0, null);
    for (const member of ctx.group ?? Array.from({ length: this.size }, (_, i) => i)) {
      if (member !== this.rank && !this.dead.has(member) && !this.retired.has(member)) void this.transport.send(member, notice);
    }
  }

  /** Whether the communicator of `context` is revoked. */
  isRevoked(context: number): boolean {
    return !!this.contexts.get(context)?.revoked;
  }

  private revokeContext(ctx: Context, id: number): void {
    ctx.revoked = true;
    const error = (d: string): DsError => new DsError(ErrorCode.Revoked, `${d}: the communicator was revoked`);
    ctx.matcher.revoke(error);
    this.flow?.revoke(id, () => error('a message in transit'));
  }

  /** Registers the runtime-level handler of a message kind (the host side of one-sided operations). */
  handle(kind: number, handler: KindHandler): void {
    this.handlers.set(kind, handler);
  }

  onPeerLost(listener: (rank: number, reason: string) => void): void {
    this.peerLostListeners.push(listener);
  }

  /**
   * Encodes and sends one message to a world rank. Throws at once (before any I/O) for a payload that
   * is not plain data or is too large. Resolves when the message is buffered for the network.
   */
  send(worldDest: number, kind: number, context: number, tag: number, data: unknown, what: Describe): void | Promise<void> {
    return this.deliver(worldDest, this.encode(kind, context, tag, data, what), what);
  }

  /**
   * Sends a point-to-point message of a context opened with `flow` (see send()). The send waits while
   * the receiver's buffer for this rank is full, and a large message travels in chunks once a
   * receive matches it; a large Uint8Array payload is read as it travels: leave it unchanged until
   * the send completes.
   */
  sendPointToPoint(worldDest: number, context: number, tag: number, data: unknown, what: Describe): void | Promise<void> {
    const flow = this.flow;
    if (flow && data instanceof Uint8Array && data.length >= LARGE_MESSAGE && worldDest !== this.rank) {
      this.checkPayload(data.length, what);
      return this.checkPeer(worldDest, what) ?? flow.send(worldDest, data, context, tag, true);
    }
    const bytes = this.encode(Kind.Message, context, tag, data, what);
    if (!flow || worldDest === this.rank) return this.deliver(worldDest, bytes, what);
    return this.checkPeer(worldDest, what) ?? flow.send(worldDest, bytes, context, tag, false);
  }

  /**
   * Encodes one message, to hand to deliver() for one or more ranks. Throws at once for a payload
   * that is not plain data or is too large, or when the runtime has shut down.
   */
  encode(kind: number, context: number, tag: number, data: unknown, what: Describe): Uint8Array {
    // Numbers, booleans, null and undefined always pass the check: no walk for them.
    if (typeof data === 'object' ? data !== null : typeof data !== 'number' && typeof data !== 'boolean' && data !== undefined) {
      assertPlainData(data, what);
    }
    const bytes = this.codec.encodeMessage(kind, context, tag, data);
    if (bytes.length > this.transport.maxPayload) this.checkPayload(this.codec.payloadLength(bytes), what);
    if (this.closed) throw new DsError(ErrorCode.Closed, `${describe(what)}: the runtime has shut down`);
    return bytes;
  }

  /** Throws if a payload of `bytes` bytes is over maxPayload, or the runtime has shut down. */
  private checkPayload(bytes: number, what: Describe): void {
    if (bytes > this.transport.maxPayload) {
      throw new DsError(
        ErrorCode.PayloadTooLarge,
        `${describe(what)}: payload is ${bytes} bytes, over the limit of ${this.transport.maxPayload} (maxPayload)`,
      );
    }
    if (this.closed) throw new DsError(ErrorCode.Closed, `${describe(what)}: the runtime has shut down`);
  }

  /** A rejected promise if `worldDest` has retired or is dead, else undefined. */
  private checkPeer(worldDest: number, what: Describe): Promise<never> | undefined {
    if (this.retired.has(worldDest)) {
      return Promise.reject(new DsError(ErrorCode.Retired, `${describe(what)}: rank ${worldDest} has retired (left the job)`));
    }
    if (this.dead.has(worldDest)) {
      return Promise.reject(new DsError(ErrorCode.PeerLost, `${describe(what)}: rank ${worldDest} is dead`));
    }
    return undefined;
  }

  /** Sends a message encoded by encode() to a world rank (see send()). The bytes are not changed. */
  deliver(worldDest: number, bytes: Uint8Array, what: Describe): void | Promise<void> {
    if (worldDest === this.rank) {
      // To oneself: through the codec all the same, so the receiver gets a copy.
      for (const env of this.codec.decodeFrame(bytes)) this.dispatch(this.rank, env, 0);
      return;
    }
    return this.checkPeer(worldDest, what) ?? this.transport.send(worldDest, bytes);
  }

  /** A world rank left the job normally: what waits on it or is sent to it fails with DS_ERR_RETIRED. */
  peerRetired(peer: number): void {
    if (this.retired.has(peer) || peer === this.rank) return;
    this.retired.add(peer);
    this.failWaitingOn(peer, (d) => new DsError(ErrorCode.Retired, `${d}: rank ${peer} has retired (left the job)`));
    this.flow?.peerGone(peer, () => new DsError(ErrorCode.Retired, `a message to or from rank ${peer}: it has retired (left the job)`));
  }

  /**
   * This rank's process is gone (the simulator crashed this incarnation): what arrived and was not
   * yet received is dropped, so code of the dead incarnation still finishing a promise job waits for
   * ever instead of acting on it (its sends and writes are dropped already).
   */
  halt(): void {
    for (const ctx of this.contexts.values()) ctx.matcher.halt();
    this.early.clear();
    this.earlyCount = 0;
  }

  /** Marks a world rank dead and fails everything waiting on it. */
  peerLost(peer: number, reason: string): void {
    if (this.dead.has(peer) || peer === this.rank) return;
    this.dead.add(peer);
    this.failWaitingOn(peer, (d) => new DsError(ErrorCode.PeerLost, `${d}: rank ${peer} was lost (${reason})`));
    this.flow?.peerGone(peer, () => new DsError(ErrorCode.PeerLost, `a message to or from rank ${peer}: it was lost (${reason})`));
    for (const l of this.peerLostListeners) l(peer, reason);
  }

  /** Rejects every receive and probe, in every context, that names world rank `peer` as its source. */
  private failWaitingOn(peer: number, error: (description: string) => Error): void {
    for (const ctx of this.contexts.values()) {
      const local = ctx.toLocal ? ctx.toLocal.get(peer) : peer;
      if (local !== undefined) ctx.matcher.failSource(local, error);
    }
  }

  abort(code: number, reason: string): void {
    this.abortImpl(code, reason);
  }

  report(err: Error): void {
    this.reportImpl(err);
  }

  /** Bytes of unmatched point-to-point messages this rank keeps, over all senders and communicators. */
  bufferedBytes(): number {
    let sum = 0;
    for (const ctx of this.contexts.values()) sum += ctx.matcher.bufferedBytes;
    return sum;
  }

  /** Calls `listener` whenever a receive or probe starts to wait for a message (busy polling). */
  onWait(listener: () => void): void {
    this.waitListener = listener;
  }

  /**
   * `spinner` busy-waits on the rank's polling chain until a condition holds (RingPoller.until):
   * what spinUntil uses.
   */
  onSpin(spinner: (ready: () => boolean) => Promise<boolean>): void {
    this.spinner = spinner;
  }

  /**
   * Busy-waits until `ready()` on the same chain that polls for this rank's messages, so one spin
   * serves both: true once it holds, false when polling stops first (budget spent, transport closed)
   * or the rank does not poll. For memory other ranks write, such as the threads' barrier word.
   */
  spinUntil(ready: () => boolean): Promise<boolean> {
    return this.spinner ? this.spinner(ready) : Promise.resolve(false);
  }

  /** True while a receive or probe of this rank, in any context, waits for a message. */
  waitingForMessage(): boolean {
    for (const ctx of this.contexts.values()) if (ctx.matcher.waitingForMessage) return true;
    return false;
  }

  /** Everything this rank is waiting on, for --timeout reports. */
  waiting(): PendingOperation[] {
    const all: PendingOperation[] = [...this.inflight.all];
    for (const ctx of this.contexts.values()) all.push(...ctx.matcher.waiting());
    return all;
  }

  /** Fails every pending operation and stops accepting sends. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const id of [...this.contexts.keys()]) this.closeContext(id);
    this.flow?.failAll(() => new DsError(ErrorCode.Closed, 'a message in transit: the runtime has shut down'));
    await this.transport.close();
  }

  private onFrame(from: number, frame: Uint8Array): void {
    let envelopes: Envelope[];
    const sizes = this.sizes;
    sizes.length = 0;
    try {
      envelopes = this.codec.decodeFrame(frame, sizes);
    } catch (err) {
      this.reportImpl(new DsError(ErrorCode.Decode, `from rank ${from}: ${(err as Error).message}; connection dropped`));
      this.transport.drop(from, 'malformed frame');
      return;
    }
    for (let i = 0; i < envelopes.length; i++) {
      if (!this.dispatch(from, envelopes[i], sizes[i])) {
        this.transport.drop(from, 'protocol violation');
        return;
      }
    }
  }

  /** Routes one envelope of `size` bytes; false (after reporting) if it breaks the protocol. */
  private dispatch(from: number, env: Envelope, size: number): boolean {
    const [kind, context, tag, data] = env;
    if (kind === Kind.Credit || kind === Kind.Cts || kind === Kind.Chunk) {
      const m =
        kind === Kind.Credit
          ? ({ kind: 'credit', bytes: data } as const)
          : kind === Kind.Cts
            ? ({ kind: 'cts', id: tag, send: data } as const)
            : ({ kind: 'chunk', id: tag, data } as const);
      if (this.flow ? this.flow.onControl(from, m) : kind === Kind.Credit) return true;
      return this.protocolError(from, `flow-control message of kind ${kind} (tag ${tag}) out of turn`);
    }
    if (kind === Kind.Revoke) {
      if (context % 2 !== 0) return this.protocolError(from, `revoke of context ${context}, not a point-to-point one`);
      this.revoke(context);
      return true;
    }
    if (kind !== Kind.Message && kind !== Kind.Rts) {
      const handler = this.handlers.get(kind);
      if (!handler) return this.protocolError(from, `unknown message kind ${kind}`);
      handler(from, env);
      return true;
    }
    const ctx = this.contexts.get(context);
    if (!ctx) {
      // A communicator another rank has already created but this one is still creating: keep it.
      if (context >= this.nextContextId && context < this.nextContextId + EARLY_WINDOW && this.earlyCount < EARLY_LIMIT) {
        const list = this.early.get(context) ?? [];
        list.push([from, env, size]);
        this.early.set(context, list);
        this.earlyCount++;
        return true;
      }
      return this.protocolError(from, `message for communicator context ${context}, which does not exist`);
    }
    const source = ctx.toLocal ? ctx.toLocal.get(from) : from;
    if (source === undefined) {
      return this.protocolError(from, `message on context ${context} from rank ${from}, not a member`);
    }
    if (tag < 0) return this.protocolError(from, `message with negative tag ${tag}`);
    const cost = ctx.flow && from !== this.rank ? size + MESSAGE_OVERHEAD : 0;
    if (kind === Kind.Rts) {
      const [id, bytes, raw] = Array.isArray(data) ? (data as unknown[]) : [];
      if (!ctx.flow || !this.flow || !isCount(id) || !isCount(bytes) || (raw !== 0 && raw !== 1)) {
        return this.protocolError(from, `malformed request to send on context ${context}`);
      }
      const held = this.flow.rendezvous(from, context, id, bytes, raw === 1, source, tag);
      if (ctx.revoked) held.drop();
      else ctx.matcher.arrive({ source, tag, data: undefined }, held);
      return true;
    }
    // A revoked communicator drops what arrives, giving the sender its credit back.
    if (ctx.revoked) {
      if (cost > 0) this.flow?.released(from, cost);
      return true;
    }
    ctx.matcher.arrive({ source, tag, data }, cost);
    return true;
  }

  private protocolError(from: number, message: string): false {
    this.reportImpl(new DsError(ErrorCode.Protocol, `from rank ${from}: ${message}; connection dropped`));
    return false;
  }
}

function isCount(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

/** Flow control's messages in `codec` (runtime/flow-control.ts). */
function flowWire(codec: Codec): FlowWire {
  return {
    credit: (bytes) => codec.encodeMessage(Kind.Credit, 0, 0, bytes),
    rts: (context, tag, id, bytes, raw) => codec.encodeMessage(Kind.Rts, context, tag, [id, bytes, raw ? 1 : 0]),
    cts: (id, send) => codec.encodeMessage(Kind.Cts, 0, id, send),
    chunk: (id, data, from, to) => codec.encodeChunk(id, data, from, to),
    chunkHead: (id, bytes) => codec.encodeChunkHead(id, bytes),
    decodeData: (message) => codec.decodeFrame(message)[0][3],
  };
}
