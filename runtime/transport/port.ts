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
/** Chunk frames of one link kept for reuse once the peer hands them back. */
const SPARE_CHUNKS = 8;
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
  /** Chunk frames (sendParts) the peer has not handed back yet, oldest first: each resolves when it does. */
  chunksOut: Array<{ resolve(): void; reject(err: unknown): void }>;
  /** Chunk frames handed back, to be filled again. */
  spare: ArrayBuffer[];
}

/** What a rank posts to hand a chunk frame's memory back to its sender. */
interface ChunkReturn {
  returned: ArrayBuffer;
}

/**
 * Links between ranks that are worker threads of one process (dsrun --threads): one MessageChannel
 * per pair, made by the launcher. In a burst (what a rank sends before its code next yields), the
 * first message to a peer is posted at once and the rest to it follow as one frame when the burst
 * ends, or earlier once FRAME_TARGET bytes are queued. A port that closes without the peer's
 * goodbye means its thread ended: the peer is lost.
 *
 * A chunk of a large message (sendParts) is copied into memory that is handed over to the peer,
 * which hands it back once its rank has taken the data out: the chunk's send completes then, and
 * the memory carries a later chunk. So flow control's window bounds the memory of a large message
 * in transit, and no chunk is left for the garbage collector.
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
    this.links = ports.map(
      (port) => port && { port, queue: [], queuedBytes: 0, gone: false, postedInBurst: false, chunksOut: [], spare: [] },
    );
  }

  start(events: TransportEvents): void {
    this.events = events;
    this.links.forEach((link, peer) => {
      if (!link) return;
      link.port.on('message', (data: string | ArrayBuffer | Uint8Array | ChunkReturn | null) => {
        if (typeof data === 'string') events.onFrame(peer, Buffer.from(data, 'latin1'));
        else if (data === GOODBYE) this.saidGoodbye(link);
        else if (data instanceof ArrayBuffer) events.onFrame(peer, Buffer.from(data));
        else if (data instanceof Uint8Array) this.takeChunk(peer, link, data);
        else this.chunkReturned(link, data.returned);
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

  /**
   * Posts `head` and `body` as one chunk frame in memory handed over to the peer; resolves when the
   * peer hands the memory back, its data taken.
   */
  sendParts(peer: number, head: Uint8Array, body: Uint8Array): Promise<void> {
    const link = this.links[peer];
    if (!link || link.gone) {
      return Promise.reject(new DsError(ErrorCode.PeerLost, `send to rank ${peer}: no thread link to it, or its thread has ended`));
    }
    const bytes = head.length + body.length;
    let memory = link.spare.pop();
    if (!memory || memory.byteLength < bytes) memory = new ArrayBuffer(bytes);
    const frame = new Uint8Array(memory, 0, bytes);
    frame.set(head);
    frame.set(body, head.length);
    // What was sent before goes first.
    if (link.queue.length > 0) {
      post(link.port, link.queue, link.queuedBytes);
      link.queue = [];
      link.queuedBytes = 0;
    }
    return new Promise<void>((resolve, reject) => {
      link.chunksOut.push({ resolve, reject });
      link.port.postMessage(frame, [memory]);
    });
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
      failChunks(link, new DsError(ErrorCode.Closed, 'a chunk of a large message in transit: the rank closed its links'));
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
    const lost = new DsError(ErrorCode.PeerLost, `send to rank ${peer}: ${reason}`);
    failChunks(link, lost);
    this.events?.onPeerLost(peer, reason);
  }

  /** The peer closed its end normally: a chunk it has not handed back never will be. */
  private saidGoodbye(link: PortLink): void {
    link.gone = true;
    failChunks(link, new DsError(ErrorCode.Closed, 'a chunk of a large message in transit: the receiving rank closed its links'));
  }

  /** A chunk frame from `peer`: its rank takes the data out at once (flow control copies it), then the memory goes back. */
  private takeChunk(peer: number, link: PortLink, frame: Uint8Array): void {
    this.events!.onFrame(peer, Buffer.from(frame.buffer, frame.byteOffset, frame.length));
    const memory = frame.buffer as ArrayBuffer;
    if (!link.gone && !this.closing) link.port.postMessage({ returned: memory } satisfies ChunkReturn, [memory]);
  }

  private chunkReturned(link: PortLink, memory: ArrayBuffer): void {
    link.chunksOut.shift()?.resolve();
    if (link.spare.length < SPARE_CHUNKS) link.spare.push(memory);
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

function failChunks(link: PortLink, err: Error): void {
  for (const chunk of link.chunksOut.splice(0)) chunk.reject(err);
  link.spare = [];
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
