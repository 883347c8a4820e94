import { Buffer } from 'node:buffer';
import type { MessagePort } from 'node:worker_threads';
import { DsError, ErrorCode } from '../errors.ts';
import { isOwnedMessage, joinFrame } from './codec.ts';
import type { Transport, TransportEvents } from '../transport.ts';
import { Doorbells, RING_MAX_FRAME, SharedRing } from './shared-ring.ts';
import { ringAt } from '../protocol/thread-rings.ts';
import { RingPoller } from './ring-poller.ts';

/** Posted on a link by a rank that closes normally, so its peer does not take the close for a crash. */
const GOODBYE = null;
/** Posted by a rank that wrote into the ring of a peer that sleeps (see Doorbells). */
const WAKE = 0;
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
  /** With rings: the ring to the peer and the one from it. */
  out?: SharedRing;
  in?: SharedRing;
  /** With rings: sequence numbers of the next frame to the peer and from it, over ring and port alike. */
  sendSeq: number;
  recvSeq: number;
  /** With rings: frames the peer posted, until their turn comes. */
  posted: Numbered[];
}

/** With rings, what a rank posts: a frame (`f`) or a chunk frame (`c`) numbered in the link's sequence. */
interface Numbered {
  s: number;
  f?: string | ArrayBuffer;
  c?: Uint8Array;
}

/** The shared memory of thread ranks that poll (dsrun --threads --poll): see shared-ring.ts. */
export interface ThreadRings {
  rank: number;
  rings: SharedArrayBuffer;
  bells: SharedArrayBuffer;
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
 *
 * With rings (ranks that poll), a frame up to RING_MAX_FRAME is written straight into the ring to
 * the peer, in shared memory, and the peer's RingPoller reads it: no post, and while the peer spins,
 * no wake-up. Larger frames, chunks and frames a full ring refuses are posted; every frame of a link
 * carries a sequence number, so the receiver delivers the two ways merged in the order they were sent.
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
  private readonly bells: Doorbells | undefined;
  /** With rings: reads them, spinning while a receive waits. */
  readonly poller: RingPoller | undefined;

  /**
   * `ports[peer]` is this rank's end of the channel to `peer` (undefined for this rank itself);
   * `rings`: the shared memory to poll (every rank of the job is given the same, or none is).
   */
  constructor(ports: ReadonlyArray<MessagePort | undefined>, maxPayload = 64 * 1024 * 1024, rings?: ThreadRings) {
    this.maxPayload = maxPayload;
    const n = ports.length;
    this.links = ports.map(
      (port, peer) =>
        port && {
          port,
          queue: [],
          queuedBytes: 0,
          gone: false,
          postedInBurst: false,
          chunksOut: [],
          spare: [],
          out: rings && new SharedRing(rings.rings, ringAt(n, rings.rank, peer)),
          in: rings && new SharedRing(rings.rings, ringAt(n, peer, rings.rank)),
          sendSeq: 0,
          recvSeq: 0,
          posted: [],
        },
    );
    if (rings) {
      this.bells = new Doorbells(rings.bells);
      this.poller = new RingPoller(rings.rank, this.bells, () => this.drainRings());
    }
  }

  start(events: TransportEvents): void {
    this.events = events;
    this.links.forEach((link, peer) => {
      if (!link) return;
      link.port.on('message', (data: string | number | ArrayBuffer | Uint8Array | ChunkReturn | Numbered | null) => {
        if (typeof data === 'string') events.onFrame(peer, Buffer.from(data, 'latin1'));
        else if (typeof data === 'number') this.poller?.woken();
        else if (data !== GOODBYE && 's' in data) {
          link.posted.push(data);
          this.drain(peer, link);
        } else if (data === GOODBYE && link.in) {
          // What the peer wrote before its goodbye is still to be read.
          this.drain(peer, link);
          this.saidGoodbye(link);
        } else if (data === GOODBYE) this.saidGoodbye(link);
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
    this.poller?.start();
  }

  send(peer: number, message: Uint8Array): void {
    const link = this.links[peer];
    if (!link)
      throw new DsError(ErrorCode.InvalidRank, `send to rank ${peer}: no thread link to it (ranks started by spawn() are not threads)`);
    if (link.gone) throw new DsError(ErrorCode.PeerLost, `send to rank ${peer}: its thread has ended`);
    if (link.out) return this.sendNumbered(peer, link, message);
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
    if (link.out) {
      return new Promise<void>((resolve, reject) => {
        link.chunksOut.push({ resolve, reject });
        link.port.postMessage({ s: nextSeq(link), c: frame } satisfies Numbered, [memory]);
      });
    }
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

  /** With rings: the frame goes into the ring to the peer if it fits there, else it is posted. */
  private sendNumbered(peer: number, link: PortLink, message: Uint8Array): void {
    const seq = nextSeq(link);
    if (message.length <= RING_MAX_FRAME && link.out!.write(seq, message)) {
      if (this.bells!.wakeNeeded(peer)) link.port.postMessage(WAKE);
      return;
    }
    const [f, transfer] = postable([message], message.length);
    link.port.postMessage({ s: seq, f } satisfies Numbered, transfer);
  }

  /** With rings: delivers what every peer has written or posted, in order; whether there was anything. */
  private drainRings(): boolean {
    let got = false;
    for (let peer = 0; peer < this.links.length; peer++) {
      const link = this.links[peer];
      if (link && this.drain(peer, link)) got = true;
    }
    return got;
  }

  /** Delivers the frames of `peer` whose turn has come, from its ring or posted. */
  private drain(peer: number, link: PortLink): boolean {
    const events = this.events;
    if (!events || this.closing) return false;
    let got = false;
    for (;;) {
      const next = link.posted[0];
      if (next && next.s === link.recvSeq) {
        link.posted.shift();
        link.recvSeq = (link.recvSeq + 1) | 0;
        if (next.c) this.takeChunk(peer, link, next.c);
        else if (typeof next.f === 'string') events.onFrame(peer, Buffer.from(next.f, 'latin1'));
        else events.onFrame(peer, Buffer.from(next.f!));
      } else if (link.in!.nextSeq() === link.recvSeq) {
        const frame = link.in!.take();
        link.recvSeq = (link.recvSeq + 1) | 0;
        events.onFrame(peer, frame);
      } else return got;
      got = true;
    }
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
    this.poller?.stop();
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
    this.poller?.stop();
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
  const [frame, transfer] = postable(messages, bytes);
  port.postMessage(frame, transfer);
}

/** Messages as one frame to post, and the memory to hand over with it (see post). */
function postable(messages: Uint8Array[], bytes: number): [string | ArrayBuffer, ArrayBuffer[]] {
  if (bytes < STRING_FRAME_LIMIT) {
    const frame = joinFrame(messages);
    const view = Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.length);
    return [view.toString('latin1'), []];
  }
  // A lone message in memory of its own (a chunk of a large message) is handed over as it is.
  if (messages.length === 1 && isOwnedMessage(messages[0])) return [messages[0].buffer as ArrayBuffer, [messages[0].buffer as ArrayBuffer]];
  // An exact-size copy: the message buffers may be views of larger pooled memory.
  const frame = new Uint8Array(bytes);
  let at = 0;
  for (const m of messages) {
    frame.set(m, at);
    at += m.length;
  }
  return [frame.buffer, [frame.buffer]];
}

function nextSeq(link: PortLink): number {
  const seq = link.sendSeq;
  link.sendSeq = (seq + 1) | 0;
  return seq;
}
