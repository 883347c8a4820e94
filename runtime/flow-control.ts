import { Buffer } from 'node:buffer';
import { DsError, ErrorCode } from './errors.ts';
import type { Message } from './message.ts';

/** Default bound of the memory a rank keeps for the unmatched point-to-point messages of one sender. */
export const DEFAULT_RECV_BUFFER = 64 * 1024 * 1024;
/** What a kept message costs beyond its encoded bytes: the decoded object and its queue slot. */
export const MESSAGE_OVERHEAD = 384;
/** Point-to-point messages from this many bytes on go by rendezvous and travel in chunks. */
export const LARGE_MESSAGE = 256 * 1024;
/** Bytes of payload in one chunk of a message sent by rendezvous. */
const CHUNK_BYTES = 1024 * 1024;
/** Chunks of one message on their way at once: the next waits until the oldest has been written out. */
const STREAM_WINDOW = 8;

/** A message held at its sender: how the receiver fetches its data once a receive matches it. */
export interface Rendezvous {
  /** Asks the sender for the data; resolves with the whole message (into `into` if it is given and fits). */
  fetch(into?: Uint8Array): Promise<Message>;
  /** Tells the sender the message will never be received (its communicator was revoked). */
  drop(): void;
}

/** The flow-control messages on the wire, and the decoding of a held message's data (the engine's codec). */
export interface FlowWire {
  credit(bytes: number): Uint8Array;
  /** A request to send held message `id` of `bytes` bytes (`raw`: a Uint8Array payload, not encoded). */
  rts(context: number, tag: number, id: number, bytes: number, raw: boolean): Uint8Array;
  /** Clear to send held message `id`; with `send` false: it will never be received, forget it. */
  cts(id: number, send: boolean): Uint8Array;
  /** Bytes `from` to `to` of held message `id`'s data, in memory of its own (its one copy on this side). */
  chunk(id: number, data: Uint8Array, from: number, to: number): Uint8Array;
  /** The bytes of a chunk of held message `id` that come before its `bytes` bytes of data. */
  chunkHead(id: number, bytes: number): Uint8Array;
  /** The data of an encoded message. */
  decodeData(message: Uint8Array): unknown;
}

/** How flow control hands messages to the transport (see Transport.send and Transport.sendParts). */
export interface FlowLink {
  send(peer: number, bytes: Uint8Array): void | Promise<void>;
  /** Sends `head` then `body` without joining them; resolves once `body` has been written out. */
  sendParts?(peer: number, head: Uint8Array, body: Uint8Array): Promise<void>;
}

/** A flow-control message from a peer. */
export type FlowMessage =
  { kind: 'credit'; bytes: unknown } | { kind: 'cts'; id: number; send: unknown } | { kind: 'chunk'; id: number; data: unknown };

interface Outgoing {
  context: number;
  /** The encoded message, or the program's own bytes for a raw one (a large Uint8Array payload). */
  bytes: Uint8Array;
  resolve(): void;
  reject(err: unknown): void;
}

interface Incoming {
  context: number;
  buffer: Uint8Array;
  size: number;
  received: number;
  raw: boolean;
  source: number;
  tag: number;
  /** Set when the receive's own buffer was too small: the data is taken and dropped, then this fails it. */
  tooSmall?: DsError;
  resolve(msg: Message): void;
  reject(err: unknown): void;
}

interface Peer {
  /** Sender side: bytes this rank may still send to the peer without asking. */
  credit: number;
  /** Receiver side: bytes of the peer's messages received since credit was last returned to it. */
  owed: number;
  nextId: number;
  outgoing: Map<number, Outgoing>;
  incoming: Map<number, Incoming>;
}

/**
 * Flow control of point-to-point messages, between this rank and each peer. A receiver keeps at most
 * `budget` bytes of a sender's messages that no receive has matched yet: the sender counts what it
 * sends eagerly against a credit of that many bytes, which the receiver returns as its receives
 * take the messages. A message that does not fit the credit, or is large, is not sent: a small
 * request to send (RTS) takes its place in the receiver's queue, so matching order is kept, and the
 * data follows in chunks once a receive matches it (clear to send, CTS). A send held this way waits,
 * as MPI's standard-mode send may; it never blocks the messages behind it, so a receive of a later
 * message from the same sender completes (no head-of-line blocking).
 */
export class FlowControl {
  private readonly budget: number;
  private readonly chunkBytes: number;
  private readonly link: FlowLink;
  private readonly wire: FlowWire;
  private readonly peers = new Map<number, Peer>();

  /** `link` hands bytes to the transport; `maxPayload` caps a chunk. */
  constructor(budget: number, maxPayload: number, wire: FlowWire, link: FlowLink) {
    this.budget = budget;
    this.wire = wire;
    this.chunkBytes = Math.max(1024, Math.min(CHUNK_BYTES, maxPayload));
    this.link = link;
  }

  /**
   * Sends a point-to-point message to `peer`: `bytes` is the encoded message, or with `raw` the
   * payload itself (a large Uint8Array, which must not change until the send completes).
   */
  send(peer: number, bytes: Uint8Array, context: number, tag: number, raw: boolean): void | Promise<void> {
    const p = this.peer(peer);
    const cost = bytes.length + MESSAGE_OVERHEAD;
    if (!raw && bytes.length < LARGE_MESSAGE && p.credit >= cost) {
      p.credit -= cost;
      return this.link.send(peer, bytes);
    }
    const id = ++p.nextId;
    return new Promise<void>((resolve, reject) => {
      p.outgoing.set(id, { context, bytes, resolve, reject });
      const sent = this.link.send(peer, this.wire.rts(context, tag, id, bytes.length, raw));
      if (sent) sent.catch(reject);
    });
  }

  /** The receiver of a message held at `peer` (an RTS): fetches its data once a receive matches it. */
  rendezvous(peer: number, context: number, id: number, size: number, raw: boolean, source: number, tag: number): Rendezvous {
    return {
      drop: () => void this.link.send(peer, this.wire.cts(id, false)),
      fetch: (into) =>
        new Promise<Message>((resolve, reject) => {
          const p = this.peer(peer);
          let buffer: Uint8Array;
          let tooSmall: DsError | undefined;
          if (raw && into && into.length >= size) buffer = into;
          else {
            if (raw && into) tooSmall = intoTooSmall(size, into);
            buffer = Buffer.allocUnsafeSlow(size);
          }
          p.incoming.set(id, { context, buffer, size, received: 0, raw, source, tag, tooSmall, resolve, reject });
          const sent = this.link.send(peer, this.wire.cts(id, true));
          if (sent) sent.catch(reject);
          if (size === 0) this.complete(p, id);
        }),
    };
  }

  /** A receive took `cost` bytes of `peer`'s messages out of the buffer: return credit in batches. */
  released(peer: number, cost: number): void {
    const p = this.peer(peer);
    p.owed += cost;
    if (p.owed < this.budget / 4) return;
    const owed = p.owed;
    p.owed = 0;
    void this.link.send(peer, this.wire.credit(owed));
  }

  /** A message sent eagerly to `peer` was lost on the way (injected faults): its `cost` comes back. */
  refund(peer: number, cost: number): void {
    const p = this.peer(peer);
    p.credit = Math.min(this.budget, p.credit + cost);
  }

  /** A message sent eagerly to `peer` will arrive twice (injected faults): the copy costs `cost` too. */
  charge(peer: number, cost: number): void {
    this.peer(peer).credit -= cost;
  }

  /** The request to send held message `id` was lost (injected faults): the message is lost whole. */
  requestLost(peer: number, id: number): void {
    const p = this.peer(peer);
    const out = p.outgoing.get(id);
    if (!out) return;
    p.outgoing.delete(id);
    out.resolve();
  }

  /** Routes a flow-control message from `peer`; false if it breaks the protocol. */
  onControl(peer: number, m: FlowMessage): boolean {
    const p = this.peer(peer);
    if (m.kind === 'credit') {
      if (typeof m.bytes !== 'number' || !(m.bytes > 0)) return false;
      p.credit = Math.min(this.budget, p.credit + m.bytes);
      return true;
    }
    if (m.kind === 'cts') {
      const out = p.outgoing.get(m.id);
      if (!out || typeof m.send !== 'boolean') return false;
      p.outgoing.delete(m.id);
      if (!m.send) out.reject(new DsError(ErrorCode.Revoked, 'a held message: its communicator was revoked'));
      else void this.stream(peer, m.id, out);
      return true;
    }
    const inc = p.incoming.get(m.id);
    const data = m.data;
    if (!inc || !(data instanceof Uint8Array) || data.length === 0 || inc.received + data.length > inc.size) return false;
    inc.buffer.set(data, inc.received);
    inc.received += data.length;
    if (inc.received === inc.size) this.complete(p, m.id);
    return true;
  }

  /** `peer` is gone: what waits on it fails, and what it was owed is forgotten. */
  peerGone(peer: number, error: () => Error): void {
    const p = this.peers.get(peer);
    if (!p) return;
    this.peers.delete(peer);
    for (const out of p.outgoing.values()) out.reject(error());
    for (const inc of p.incoming.values()) inc.reject(error());
  }

  /**
   * The communicator of `context` was revoked: its held sends and the receives of its large messages
   * fail now. Their data still flows if it was asked for (and is dropped), so both sides stay in step.
   */
  revoke(context: number, error: () => Error): void {
    for (const p of this.peers.values()) {
      for (const out of p.outgoing.values()) if (out.context === context) out.reject(error());
      for (const inc of p.incoming.values()) {
        if (inc.context !== context) continue;
        inc.reject(error());
        inc.resolve = inc.reject = () => {};
      }
    }
  }

  /** Fails everything in progress (shutdown). */
  failAll(error: () => Error): void {
    for (const peer of [...this.peers.keys()]) this.peerGone(peer, error);
  }

  private peer(rank: number): Peer {
    let p = this.peers.get(rank);
    if (!p) {
      p = { credit: this.budget, owed: 0, nextId: 0, outgoing: new Map(), incoming: new Map() };
      this.peers.set(rank, p);
    }
    return p;
  }

  /**
   * Sends a held message's data in chunks, at most STREAM_WINDOW of them on their way at once. With
   * a transport that writes a chunk's data from the message's own memory (sendParts), the send
   * completes once all of it has been written out; otherwise each chunk is a copy.
   */
  private async stream(peer: number, id: number, out: Outgoing): Promise<void> {
    try {
      const { bytes } = out;
      const onTheirWay: Promise<void>[] = [];
      for (let at = 0; at < bytes.length; at += this.chunkBytes) {
        const to = Math.min(bytes.length, at + this.chunkBytes);
        const sent = this.link.sendParts
          ? this.link.sendParts(peer, this.wire.chunkHead(id, to - at), bytes.subarray(at, to))
          : this.link.send(peer, this.wire.chunk(id, bytes, at, to));
        if (!sent) continue;
        // Awaited below, in order; a failure is seen there, not reported as unhandled meanwhile.
        sent.catch(() => {});
        onTheirWay.push(sent);
        if (onTheirWay.length >= STREAM_WINDOW) await onTheirWay.shift();
      }
      for (const sent of onTheirWay) await sent;
      out.resolve();
    } catch (err) {
      out.reject(err);
    }
  }

  private complete(p: Peer, id: number): void {
    const inc = p.incoming.get(id)!;
    p.incoming.delete(id);
    if (inc.tooSmall) return inc.reject(inc.tooSmall);
    const { buffer, size, source, tag } = inc;
    if (inc.raw) return inc.resolve({ source, tag, data: buffer.length === size ? buffer : buffer.subarray(0, size) });
    try {
      inc.resolve({ source, tag, data: this.wire.decodeData(buffer) });
    } catch (err) {
      inc.reject(err);
    }
  }
}

/**
 * The data of a receive with `into`: a Uint8Array payload is copied into `into` and handed back as
 * the view of it that it fills; other payloads are handed back as they are.
 */
export function receiveInto(msg: Message, into: Uint8Array): Message {
  const data = msg.data;
  if (!(data instanceof Uint8Array) || data === into || data.buffer === into.buffer) return msg;
  if (data.length > into.length) throw intoTooSmall(data.length, into);
  into.set(data);
  return { source: msg.source, tag: msg.tag, data: into.subarray(0, data.length) };
}

function intoTooSmall(size: number, into: Uint8Array): DsError {
  return new DsError(
    ErrorCode.PayloadTooLarge,
    `recv into a buffer of ${into.length} bytes: the message's ${size} bytes do not fit (the message was received and dropped)`,
  );
}
