import { Buffer } from 'node:buffer';
import type { MessagePort } from 'node:worker_threads';
import { DsError, ErrorCode } from '../errors.ts';
import { isOwnedMessage, joinFrame } from './codec.ts';
import type { Transport, TransportEvents } from '../transport.ts';

/** Posted on a link by a rank that closes normally, so its peer does not take the close for a crash. */
const GOODBYE = null;
/** Frames below this size travel as one-byte strings, which cost less to post than memory handed over. */
const STRING_FRAME_LIMIT = 16 * 1024;
/** A frame is posted as soon as this many bytes are queued, so a long send loop streams. */
const FRAME_TARGET = 64 * 1024;
/** Bursts end in a promise reaction: a plain microtask, without the async context queueMicrotask keeps. */
const resolved = Promise.resolve();

interface PortLink {
  port: MessagePort;
  queue: Uint8Array[];
  queuedBytes: number;
  /** The peer said goodbye, or its thread ended. */
  gone: boolean;
  /** A frame went to the peer in this burst: the rest of the burst's messages to it are gathered. */
  postedInBurst: boolean;
}

/**
 * Links between ranks that are worker threads of one process (dsrun --threads): one MessageChannel
 * per pair, made by the launcher. In a burst (what a rank sends before its code next yields), the
 * first message to a peer is posted at once and the rest to it follow as one frame when the burst
 * ends, or earlier once FRAME_TARGET bytes are queued. A port that closes without the peer's
 * goodbye means its thread ended: the peer is lost.
 */
export class PortTransport implements Transport {
  readonly maxPayload: number;
  private readonly links: Array<PortLink | undefined>;
  private events: TransportEvents | undefined;
  /** Links that posted in this burst or have messages queued, handled when it ends. */
  private readonly touched = new Set<number>();
  private flushScheduled = false;
  private readonly endBurst = (): void => this.flushTouched();
  private closing = false;

  /** `ports[peer]` is this rank's end of the channel to `peer` (undefined for this rank itself). */
  constructor(ports: ReadonlyArray<MessagePort | undefined>, maxPayload = 64 * 1024 * 1024) {
    this.maxPayload = maxPayload;
    this.links = ports.map((port) => port && { port, queue: [], queuedBytes: 0, gone: false, postedInBurst: false });
  }

  start(events: TransportEvents): void {
    this.events = events;
    this.links.forEach((link, peer) => {
      if (!link) return;
      link.port.on('message', (data: string | ArrayBuffer | null) => {
        if (typeof data === 'string') events.onFrame(peer, Buffer.from(data, 'latin1'));
        else if (data === GOODBYE) link.gone = true;
        else events.onFrame(peer, Buffer.from(data));
      });
      link.port.on('close', () => {
        if (!link.gone && !this.closing) this.lost(peer, 'its thread ended');
      });
      // The rank's control connection keeps the thread alive; idle links need not.
      link.port.unref();
    });
  }

  send(peer: number, message: Uint8Array): void {
    const link = this.links[peer];
    if (!link)
      throw new DsError(ErrorCode.InvalidRank, `send to rank ${peer}: no thread link to it (ranks started by spawn() are not threads)`);
    if (link.gone) throw new DsError(ErrorCode.PeerLost, `send to rank ${peer}: its thread has ended`);
    // A lone message waits for nothing; the rest of a burst goes as one frame when it ends.
    if (link.postedInBurst) {
      link.queue.push(message);
      link.queuedBytes += message.length;
      if (link.queuedBytes >= FRAME_TARGET) {
        post(link.port, link.queue, link.queuedBytes);
        link.queue = [];
        link.queuedBytes = 0;
      }
    } else {
      link.postedInBurst = true;
      post(link.port, [message], message.length);
    }
    this.touched.add(peer);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // The burst ends at the next microtask: cheaper than process.nextTick on a rank that wakes for every message.
    resolved.then(this.endBurst);
  }

  /** Frames between threads come from dsmpi itself: there is no connection to drop. */
  drop(): void {}

  async flush(): Promise<void> {
    this.flushTouched();
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.flushTouched();
    this.closing = true;
    for (const link of this.links) {
      if (!link) continue;
      if (!link.gone) link.port.postMessage(GOODBYE);
      link.port.close();
    }
  }

  /** The launcher declared `peer` dead: stop sending to it. */
  forget(peer: number, reason: string): void {
    const link = this.links[peer];
    if (link && !link.gone) this.lost(peer, reason);
  }

  /** Ends every link without a goodbye, as a crash of this thread would (tests). */
  terminate(): void {
    this.closing = true;
    for (const link of this.links) link?.port.close();
  }

  private lost(peer: number, reason: string): void {
    const link = this.links[peer]!;
    link.gone = true;
    link.queue = [];
    link.queuedBytes = 0;
    this.events?.onPeerLost(peer, reason);
  }

  private flushTouched(): void {
    this.flushScheduled = false;
    for (const peer of this.touched) {
      const link = this.links[peer]!;
      link.postedInBurst = false;
      if (link.gone || link.queue.length === 0) continue;
      post(link.port, link.queue, link.queuedBytes);
      link.queue = [];
      link.queuedBytes = 0;
    }
    this.touched.clear();
  }
}

/**
 * Posts messages as one frame: a small one as a one-byte string (a byte per character), a large one
 * in memory of its own that is handed over, not cloned (copied into such memory unless it is one
 * message made by ownedMessage, which is handed over as it is).
 */
function post(port: MessagePort, messages: Uint8Array[], bytes: number): void {
  if (bytes < STRING_FRAME_LIMIT) {
    const frame = joinFrame(messages);
    const view = Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.length);
    port.postMessage(view.toString('latin1'));
    return;
  }
  // A lone message in memory of its own (a chunk of a large message) is handed over as it is.
  if (messages.length === 1 && isOwnedMessage(messages[0])) {
    port.postMessage(messages[0].buffer, [messages[0].buffer as ArrayBuffer]);
    return;
  }
  // An exact-size copy: the message buffers may be views of larger pooled memory.
  const frame = new Uint8Array(bytes);
  let at = 0;
  for (const m of messages) {
    frame.set(m, at);
    at += m.length;
  }
  port.postMessage(frame.buffer, [frame.buffer]);
}
