import { Buffer } from 'node:buffer';
import { DsError, ErrorCode } from '../errors.ts';
import { seededRandom, type Random } from '../random.ts';
import type { TraceEvent } from '../protocol/trace-event.ts';
import { decodeFrame, readHeader, readIntArray } from './codec.ts';
import { isCut, spared } from './fault-rules.ts';
import { encodeValue } from '../protocol/control-codec.ts';
import { epochMs } from '../protocol/epoch-clock.ts';
import { messageEvent, payloadPreview, type TracedMessage } from './trace-label.ts';
import type { NetworkFaults } from '../protocol/rendezvous.ts';
import type { Transport, TransportEvents } from '../transport.ts';

/** Where trace events go (a TraceFile in real runs). */
export interface TraceSink {
  record(event: TraceEvent): void;
}

export interface FaultyTransportOptions {
  rank: number;
  /** Job seed: the drop and delay draws of this rank replay from it (stream: the rank). */
  seed: number;
  faults: NetworkFaults;
  /** Records send, deliver and drop events, and stamps every message with the sender's Lamport time. */
  trace?: TraceSink;
}

/** A message held back by --delay. */
interface Held {
  releaseAt: number;
  wire: Uint8Array;
  info: MessageInfo;
}

interface MessageInfo extends TracedMessage {
  /** The message as the engine sent it (without a trace stamp). */
  message: Uint8Array;
  /** One of flow control's own messages: no fault loses it (fault-rules.ts spared). */
  control: boolean;
}

/** Random stream of the fault draws: apart from the program's own comm.random() stream. */
const FAULT_STREAM = 0x5eed;

/**
 * A Transport around another (WebSockets in real runs) that applies dsrun's network faults to the
 * messages this rank sends, and traces them:
 *
 * - drop: each message is lost with probability p, decided when it is sent (`drop`, reason `random`);
 * - delay: each message is held for a uniform time in [minMs, maxMs], but never released before an
 *   earlier message to the same peer, so per-pair FIFO (MPI's non-overtaking rule) still holds;
 * - partitions: a message is dropped (reason `partition`) if, when it leaves this rank (after its
 *   delay), a partition cuts this rank from its destination.
 *
 * Flow control's own messages are never dropped (fault-rules.ts spared), and every drop is reported to the
 * engine (onDropped), so a lost message gives its credit back (runtime/flow-control.ts).
 *
 * Faults act on the sender only, so a receiver needs no configuration. With tracing on, every message
 * travels behind a small stamp, the MessagePack array `[lamport, msg, bytes]` (the sender's Lamport
 * time, the message's number at its sender, the length of the envelope that follows); every rank of
 * a traced job stamps, and the receiving side strips the stamps before the engine sees the frame.
 * Without tracing nothing is added to the wire.
 */
export class FaultyTransport implements Transport {
  readonly maxPayload: number;
  private readonly inner: Transport;
  private readonly options: FaultyTransportOptions;
  private readonly random: Random;
  private readonly trace: TraceSink | undefined;
  private events: TransportEvents | undefined;
  private lamport = 0;
  private msgCount = 0;
  private readonly held = new Map<number, Held[]>();
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private readonly lastRelease = new Map<number, number>();
  private idleWaiters: Array<() => void> = [];
  /** The job's time 0 (epoch ms), once every rank has registered. */
  private t0: number | undefined;
  /** With partitions, messages sent before time 0 wait for it (a partition may start at 0). */
  private beforeStart: Array<{ peer: number; wire: Uint8Array; info: MessageInfo }> = [];
  private startWaiters: Array<() => void> = [];

  constructor(inner: Transport, options: FaultyTransportOptions) {
    this.inner = inner;
    this.options = options;
    this.trace = options.trace;
    this.maxPayload = inner.maxPayload;
    this.random = seededRandom(options.seed, options.rank * 65_537 + FAULT_STREAM);
  }

  /** This rank's Lamport time (for events recorded outside the transport, like `detect` and `exit`). */
  get lamportTime(): number {
    return this.lamport;
  }

  /** The job has started (every rank registered): partition windows count from `t0`. */
  setStart(t0: number): void {
    this.t0 = t0;
    for (const m of this.beforeStart.splice(0)) this.forwardLater(m.peer, m.wire, m.info);
    for (const w of this.startWaiters.splice(0)) w();
  }

  /** Records an event of this rank that is not a message (detect, exit), with the current Lamport time. */
  record(event: Omit<TraceEvent, 't' | 'rank' | 'lamport'>): void {
    this.trace?.record({ t: this.now(), rank: this.options.rank, lamport: this.lamport, ...event } as TraceEvent);
  }

  start(events: TransportEvents): void {
    this.events = events;
    this.inner.start({
      onFrame: (peer, frame) => this.onFrame(peer, frame),
      onPeerLost: (peer, reason) => events.onPeerLost(peer, reason),
      onError: (err) => events.onError(err),
    });
  }

  send(peer: number, message: Uint8Array): void | Promise<void> {
    const { faults } = this.options;
    const header = readHeader(message);
    const info: MessageInfo = { message, control: spared(header?.kind), msg: ++this.msgCount, bytes: message.length };
    let wire = message;
    if (this.trace) {
      this.lamport++;
      info.kind = header?.kind;
      info.ctx = header?.context;
      info.tag = header?.tag;
      info.preview = previewOf(message);
      const stamp = encodeValue([this.lamport, info.msg, message.length]);
      wire = Buffer.concat([stamp, message]);
    }
    const delayMs = faults.delay ? faults.delay.minMs + this.random() * (faults.delay.maxMs - faults.delay.minMs) : undefined;
    this.recordMessage('send', peer, info, delayMs !== undefined ? { delayMs: round(delayMs) } : {});
    if (!info.control && faults.drop && this.random() < faults.drop) {
      this.recordMessage('drop', peer, info, { reason: 'random' });
      this.events?.onDropped?.(peer, message);
      return;
    }
    if (delayMs === undefined) return this.forward(peer, wire, info);
    const releaseAt = Math.max(epochMs() + delayMs, this.lastRelease.get(peer) ?? 0);
    this.lastRelease.set(peer, releaseAt);
    const queue = this.held.get(peer) ?? [];
    queue.push({ releaseAt, wire, info });
    this.held.set(peer, queue);
    if (!this.timers.has(peer)) this.arm(peer);
  }

  drop(peer: number, reason: string): void {
    this.inner.drop(peer, reason);
  }

  async flush(): Promise<void> {
    if (this.beforeStart.length > 0) await new Promise<void>((resolve) => this.startWaiters.push(resolve));
    if (this.held.size > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await this.inner.flush();
  }

  async close(): Promise<void> {
    await this.flush();
    await this.inner.close();
  }

  /**
   * Trace times are written as epoch milliseconds (microsecond resolution); dsrun subtracts the
   * job's time 0 when it merges the ranks' files, so events before it are negative.
   */
  private now(): number {
    return round(epochMs());
  }

  /** Hands a message to the real network unless a partition cuts it off now. */
  private forward(peer: number, wire: Uint8Array, info: MessageInfo): void | Promise<void> {
    if (this.options.faults.partitions && this.t0 === undefined) {
      this.beforeStart.push({ peer, wire, info });
      return;
    }
    if (this.t0 !== undefined && !info.control && this.partitioned(this.options.rank, peer, epochMs() - this.t0)) {
      this.recordMessage('drop', peer, info, { reason: 'partition' });
      this.events?.onDropped?.(peer, info.message);
      return;
    }
    return this.inner.send(peer, wire);
  }

  /** Forwards a message its sender is no longer waiting on (released from a hold). */
  private forwardLater(peer: number, wire: Uint8Array, info: MessageInfo): void {
    try {
      const sent = this.forward(peer, wire, info);
      if (sent) sent.catch(() => {});
    } catch (err) {
      // The peer is gone: the engine has been told (onPeerLost); later sends to it reject there.
      if (!(err instanceof DsError && err.code === ErrorCode.PeerLost)) this.events?.onError(err as Error);
    }
  }

  private partitioned(from: number, to: number, t: number): boolean {
    const now = (this.options.faults.partitions ?? []).filter((p) => t >= p.atMs && (p.untilMs === undefined || t < p.untilMs));
    return isCut(now, from, to);
  }

  private arm(peer: number): void {
    const queue = this.held.get(peer)!;
    const wait = Math.max(0, queue[0].releaseAt - epochMs());
    this.timers.set(
      peer,
      setTimeout(() => this.release(peer), wait),
    );
  }

  private release(peer: number): void {
    this.timers.delete(peer);
    const queue = this.held.get(peer)!;
    const now = epochMs();
    while (queue.length > 0 && queue[0].releaseAt <= now + 0.5) {
      const h = queue.shift()!;
      this.forwardLater(peer, h.wire, h.info);
    }
    if (queue.length > 0) {
      this.arm(peer);
      return;
    }
    this.held.delete(peer);
    if (this.held.size === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private onFrame(peer: number, frame: Uint8Array): void {
    if (!this.trace) {
      this.events?.onFrame(peer, frame);
      return;
    }
    const messages: Uint8Array[] = [];
    let pos = 0;
    while (pos < frame.length) {
      const stamp = readIntArray(frame, pos, 3);
      const end = stamp ? stamp[1] + stamp[0][2] : -1;
      if (!stamp || end > frame.length) {
        this.events?.onError(new DsError(ErrorCode.Decode, `from rank ${peer}: a traced frame without a valid stamp; connection dropped`));
        this.inner.drop(peer, 'malformed frame');
        return;
      }
      const [lamport, msg] = stamp[0];
      const message = frame.subarray(stamp[1], end);
      this.lamport = Math.max(this.lamport, lamport) + 1;
      const header = readHeader(message);
      const traced = { msg, kind: header?.kind, ctx: header?.context, tag: header?.tag, bytes: message.length };
      this.trace.record(messageEvent(this.now(), 'deliver', this.options.rank, this.lamport, peer, traced));
      messages.push(message);
      pos = end;
    }
    // Handed on one by one, as the stamps split them (a frame may hold a single message): never joined again.
    for (const message of messages) this.events?.onFrame(peer, message);
  }

  private recordMessage(ev: 'send' | 'drop', to: number, info: MessageInfo, extra: { delayMs?: number; reason?: string }): void {
    this.trace?.record(messageEvent(this.now(), ev, this.options.rank, this.lamport, to, info, extra));
  }
}

/** The payload's start for the trace; undefined for bytes that are not one message. */
function previewOf(message: Uint8Array): string | undefined {
  try {
    return payloadPreview(decodeFrame(message)[0][3], message.length);
  } catch {
    return undefined;
  }
}

/** Microsecond resolution, as the simulator writes times. */
function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
