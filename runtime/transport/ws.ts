import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { DsError, ErrorCode } from '../errors.ts';
import { Party, rankOf, Refusal, type Hello } from '../protocol/handshake.ts';
import { isTlsUrl } from '../protocol/rendezvous.ts';
import { tlsKey } from '../protocol/keys.ts';
import { joinFrame } from './codec.ts';
import type { RankTls } from './rank-tls.ts';
import { readFramesDirectly } from './ws-direct-read.ts';
import { dial, type ClientTls } from '../protocol/ws-dial.ts';
import { listenWebSocketServer, type ListeningServer, type Refuse, type ServerTls } from '../protocol/ws-server.ts';
import type { Transport, TransportEvents } from '../transport.ts';

export interface WsTransportOptions {
  rank: number;
  size: number;
  jobId: string;
  /** The job's ranks key (runtime/protocol/keys.ts); every connection proves it holds it before any frame is accepted. */
  key: Buffer;
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Address to advertise to the other ranks (default: host). */
  advertiseHost?: string;
  maxPayload?: number;
  /** Serve wss:// and dial peers over wss:// only (a certificate or TLS-PSK, rank-tls.ts). */
  tls?: RankTls;
  /**
   * The directory where the ranks its launcher started on this host listen on Unix sockets besides
   * TCP (Env.localLinks); without TLS, this rank listens there too and dials there the peers that do.
   */
  localDir?: string;
  /** Finds the listening address (ws://host:port) of a peer; may wait until the peer has registered. */
  resolve: (peer: number) => Promise<string>;
}

/** Close code and reason of a rank that ends normally: not a failure. */
const FINISHED = { code: 1000, reason: 'finished' };
/** Highest world rank a link is made for, plus one (ranks spawned during a job go past the initial size). */
const MAX_RANKS = 1 << 16;
/** A frame is sent as soon as this many bytes are queued, so a long send loop streams. */
const FRAME_TARGET = 64 * 1024;
/** An outgoing buffer over this many bytes makes send() wait (backpressure). */
const HIGH_WATER = 8 * 1024 * 1024;

/**
 * idle: no connection yet; connecting: this rank is dialling; awaiting: this rank's dial lost the
 * race to the peer's, which it waits for; open; gone.
 */
type LinkState = 'idle' | 'connecting' | 'awaiting' | 'open' | 'gone';

/** A message queued as two parts (sendParts): `body` is written from the caller's memory. */
interface Parts {
  head: Uint8Array;
  body: Uint8Array;
  written(): void;
  lost(err: Error): void;
}

interface Link {
  state: LinkState;
  socket?: WebSocket;
  queue: Array<Uint8Array | Parts>;
  queuedBytes: number;
  /** Bytes handed to ws and not yet written to the kernel. */
  unwritten: number;
  /** Senders held by backpressure. */
  drainWaiters: Array<() => void>;
  /** flush() callers waiting for everything queued to be written. */
  idleWaiters: Array<() => void>;
}

/**
 * The WebSocket transport: one socket per pair of ranks, opened on first use by whichever side
 * sends first (if both dial at once, the connection dialled by the lower rank wins). A message to a
 * peer with nothing in flight is written at once; messages sent to it while a write is in flight
 * (in the rest of the event-loop turn, or while the socket is slow) travel together as one frame.
 */
export class WsTransport implements Transport {
  readonly maxPayload: number;
  /**
   * The address peers dial: ws://host:port (wss:// with TLS), followed, when this rank listens on a
   * Unix socket too, by a space and its ws+unix: URL, which only the peers of its own launcher dial.
   */
  readonly address: string;
  private readonly options: WsTransportOptions;
  private readonly server: ListeningServer;
  private readonly links: Link[];
  private events: TransportEvents | undefined;
  private flushScheduled = false;
  private readonly dirty = new Set<number>();
  private closing = false;

  private constructor(options: WsTransportOptions, server: ListeningServer, address: string) {
    this.options = options;
    this.server = server;
    this.address = address;
    this.maxPayload = options.maxPayload ?? 64 * 1024 * 1024;
    this.links = Array.from({ length: options.size }, () => ({
      state: 'idle' as LinkState,
      queue: [],
      queuedBytes: 0,
      unwritten: 0,
      drainWaiters: [],
      idleWaiters: [],
    }));
  }

  /** The link to `peer`, made on first use: ranks spawned during the job come after `size` (runtime/spawn.ts). */
  private link(peer: number): Link {
    while (this.links.length <= peer) {
      this.links.push({ state: 'idle', queue: [], queuedBytes: 0, unwritten: 0, drainWaiters: [], idleWaiters: [] });
    }
    return this.links[peer];
  }

  /** Starts listening on an ephemeral port. */
  static async listen(options: WsTransportOptions): Promise<WsTransport> {
    const host = options.host ?? '127.0.0.1';
    let transport: WsTransport | undefined;
    const self = Party.rank(options.rank);
    // Named after the process too: a rank's address names its own socket, never a later process's.
    const unixPath = options.localDir && !options.tls ? join(options.localDir, `${options.rank}.${process.pid}.sock`) : undefined;
    const server = await listenWebSocketServer({
      host,
      port: 0,
      unixPath,
      // A flood of bogus connections must not stop the job (ws-server.ts).
      maxConnections: 4 * options.size + 64,
      maxPendingPerSource: 2 * options.size + 16,
      tls: serverTls(options),
      purpose: 'rank',
      maxPayload: (options.maxPayload ?? 64 * 1024 * 1024) + 1024,
      perMessageDeflate: false,
      admit: (hello) => {
        const peer = rankOf(hello.from);
        if (hello.jobId !== options.jobId) return { status: 401, reason: `a handshake of another job (${hello.jobId})` };
        if (hello.to !== self) return { status: 401, reason: `a handshake for ${hello.to}, not for this rank (${self})` };
        if (peer === undefined || peer >= MAX_RANKS || peer === options.rank) return { status: 400, reason: `bad party ${hello.from}` };
        if (transport!.closing) return { status: 503, reason: 'shutting down' };
        return { key: options.key };
      },
      authenticated: (hello) => transport!.decide(rankOf(hello.from)!),
      opened: (hello, socket) => transport!.attach(rankOf(hello.from)!, socket),
      refused: (reason, from) => transport!.events?.onError(new DsError(ErrorCode.Auth, `refused a connection from ${from}: ${reason}`)),
    });
    const address = [server.url(options.advertiseHost ?? host), server.unixUrl].filter(Boolean).join(' ');
    transport = new WsTransport(options, server, address);
    server.wss.on('error', (err) => transport!.events?.onError(err));
    return transport;
  }

  start(events: TransportEvents): void {
    this.events = events;
    const unix = this.server.unixError;
    if (unix) events.onError(new Error(`cannot listen on a Unix socket (${unix.message}): peers on this host dial over TCP`));
  }

  send(peer: number, message: Uint8Array): void | Promise<void> {
    return this.enqueue(peer, message, message.length);
  }

  sendParts(peer: number, head: Uint8Array, body: Uint8Array): Promise<void> {
    let parts: Parts;
    const written = new Promise<void>((resolve, reject) => {
      parts = { head, body, written: resolve, lost: reject };
    });
    const drained = this.enqueue(peer, parts!, head.length + body.length);
    return drained ? Promise.all([written, drained]).then(() => {}) : written;
  }

  private enqueue(peer: number, message: Uint8Array | Parts, bytes: number): void | Promise<void> {
    const link = this.link(peer);
    if (link.state === 'gone') throw new DsError(ErrorCode.PeerLost, `send to rank ${peer}: connection lost`);
    link.queue.push(message);
    link.queuedBytes += bytes;
    if (link.state === 'idle') void this.dial(peer);
    if (link.state === 'open') {
      // A message to an idle link goes at once: no wait for the end of the turn (a barrier's lone
      // message). While a write is in flight, messages gather into frames at the end of the turn.
      if (link.queuedBytes >= FRAME_TARGET || (link.unwritten === 0 && link.queue.length === 1)) this.flushLink(peer);
      else this.scheduleFlush(peer);
    }
    if (link.queuedBytes + link.unwritten > HIGH_WATER) {
      return new Promise((resolve) => link.drainWaiters.push(resolve));
    }
  }

  drop(peer: number, reason: string): void {
    const link = this.link(peer);
    link.socket?.close(1002, reason.slice(0, 100));
  }

  async flush(): Promise<void> {
    for (const peer of this.dirty) this.flushLink(peer);
    this.dirty.clear();
    const waits = this.links
      .filter((l) => l.state !== 'gone' && (l.unwritten > 0 || l.queue.length > 0))
      .map((l) => new Promise<void>((resolve) => l.idleWaiters.push(resolve)));
    await Promise.all(waits);
  }

  async close(): Promise<void> {
    if (this.closing) return;
    await this.flush();
    this.closing = true;
    const closed = this.links
      .map((l) => l.socket)
      .filter((socket): socket is WebSocket => socket?.readyState === WebSocket.OPEN)
      .map(
        (socket) =>
          new Promise<void>((resolve) => {
            // A peer that does not answer the closing handshake within a second is cut off.
            const timer = setTimeout(() => {
              socket.terminate();
              resolve();
            }, 1000);
            socket.once('close', () => {
              clearTimeout(timer);
              resolve();
            });
            socket.close(FINISHED.code, FINISHED.reason);
          }),
      );
    await Promise.all(closed);
    await this.server.close();
  }

  /**
   * The launcher declared `peer` dead (it may be cut off by the network rather than gone, so its
   * socket would never close by itself): cut the link, so flush() and sends stop waiting on it.
   */
  forget(peer: number, reason: string): void {
    const link = this.links[peer];
    if (!link || link.state === 'gone') return;
    const socket = link.socket;
    link.socket = undefined;
    socket?.terminate();
    this.lost(peer, reason);
  }

  /** Cuts every connection at once, as a crash would (abort, tests). */
  terminate(): void {
    this.closing = true;
    for (const l of this.links) l.socket?.terminate();
    void this.server.close();
  }

  /**
   * An authenticated connection from `peer`: let it in, unless the link is already made, or this
   * rank dials the peer too and is the lower rank (the lower rank's dial wins the race; the peer
   * then waits for it).
   */
  private decide(peer: number): Refuse | undefined {
    if (this.closing) return { code: Refusal.gone, reason: 'shutting down' };
    const link = this.link(peer);
    if (link.state === 'gone') return { code: Refusal.gone, reason: `rank ${peer} is gone from this rank's view` };
    if (link.state === 'open' || (link.state === 'connecting' && this.options.rank < peer)) {
      return { code: Refusal.duplicate, reason: 'duplicate connection' };
    }
    return undefined;
  }

  private async dial(peer: number): Promise<void> {
    const link = this.link(peer);
    link.state = 'connecting';
    let url: string;
    try {
      url = this.pickUrl(await this.options.resolve(peer));
    } catch (err) {
      return this.lost(peer, `cannot find rank ${peer}: ${(err as Error).message}`);
    }
    if (link.state !== 'connecting') return;
    const tls = this.options.tls;
    // No downgrade: a rank with TLS never talks to a peer in the clear.
    if (tls && !isTlsUrl(url)) return this.lost(peer, `rank ${peer} listens at ${url}, not wss://: every rank of a TLS job needs TLS`);
    const hello: Hello = { purpose: 'rank', jobId: this.options.jobId, from: Party.rank(this.options.rank), to: Party.rank(peer) };
    dial(
      {
        url,
        hello,
        key: this.options.key,
        tls: clientTls(this.options),
        ws: {
          maxPayload: this.maxPayload + 1024,
          // Ranks talk over authenticated links, not through proxies: a zero mask lets ws skip masking.
          generateMask: (mask: Buffer) => mask.fill(0),
        },
      },
      {
        open: (socket) => {
          // The peer's own dial won meanwhile: this one is not needed.
          if (link.state !== 'connecting' && link.state !== 'awaiting') socket.close(FINISHED.code, 'duplicate');
          else this.attach(peer, socket);
        },
        fail: (err) => {
          if (err.code === Refusal.duplicate) {
            // The peer dialled us too and its connection wins; it will arrive (or has arrived).
            if (link.state === 'connecting') link.state = 'awaiting';
            return;
          }
          if (link.state === 'connecting') this.lost(peer, `cannot connect to rank ${peer}: ${err.message}`);
        },
      },
    );
  }

  /** Of a peer's address (see `address`), its Unix socket if it is in this rank's own `localDir`, else its first URL. */
  private pickUrl(address: string): string {
    const urls = address.split(' ');
    const dir = this.options.localDir;
    const local = dir && !this.options.tls ? urls.find((url) => url.startsWith(`ws+unix:${join(dir, '/')}`)) : undefined;
    return local ?? urls[0];
  }

  private attach(peer: number, socket: WebSocket): void {
    const link = this.link(peer);
    link.state = 'open';
    link.socket = socket;
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        this.events?.onError(new DsError(ErrorCode.Decode, `text frame from rank ${peer}; connection dropped`));
        socket.close(1003, 'binary frames only');
        return;
      }
      this.events?.onFrame(peer, data);
    });
    // The binary frames ranks write are read off the socket here, ws's receiver reads the rest.
    readFramesDirectly(socket, (data) => this.events?.onFrame(peer, data));
    socket.on('error', (err) => {
      const code = /max payload/i.test(err.message) ? ErrorCode.PayloadTooLarge : ErrorCode.Decode;
      this.events?.onError(new DsError(code, `connection with rank ${peer}: ${err.message}`));
    });
    socket.on('close', (code, reason) => {
      if (link.socket !== socket) return;
      link.socket = undefined;
      if (this.closing) return;
      const why = reason.toString();
      if (code === FINISHED.code && why === FINISHED.reason) {
        link.state = 'gone';
        return;
      }
      if (code === 1009) {
        this.events?.onError(new DsError(ErrorCode.PayloadTooLarge, `rank ${peer} closed the connection: a frame was over its maxPayload`));
      }
      this.lost(peer, `connection closed (${code}${why ? ` ${why}` : ''})`);
    });
    if (link.queue.length > 0) this.scheduleFlush(peer);
  }

  private lost(peer: number, reason: string): void {
    const link = this.link(peer);
    if (link.state === 'gone') return;
    link.state = 'gone';
    const error = new DsError(ErrorCode.PeerLost, `send to rank ${peer}: connection lost (${reason})`);
    for (const m of link.queue) if (!(m instanceof Uint8Array)) m.lost(error);
    link.queue = [];
    link.queuedBytes = 0;
    for (const w of [...link.drainWaiters.splice(0), ...link.idleWaiters.splice(0)]) w();
    this.events?.onPeerLost(peer, reason);
  }

  private scheduleFlush(peer: number): void {
    this.dirty.add(peer);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    process.nextTick(() => {
      this.flushScheduled = false;
      for (const p of this.dirty) this.flushLink(p);
      this.dirty.clear();
    });
  }

  /** Sends what is queued for a peer as frames of at most maxPayload bytes. */
  private flushLink(peer: number): void {
    const link = this.link(peer);
    const socket = link.socket;
    if (link.state !== 'open' || !socket || link.queue.length === 0) return;
    // Taken off the link first: a write to a closing socket completes at once, and must find the queue empty.
    const queue = link.queue;
    link.queue = [];
    link.queuedBytes = 0;
    let batch: Array<Uint8Array | Parts> = [];
    let batchBytes = 0;
    const sendBatch = (): void => {
      const frame = frameParts(batch);
      const frameBytes = batchBytes;
      const sent = batch;
      link.unwritten += frameBytes;
      writeBinaryFrame(socket, frame, frameBytes, () => {
        link.unwritten -= frameBytes;
        for (const m of sent) if (!(m instanceof Uint8Array)) m.written();
        if (link.unwritten + link.queuedBytes <= HIGH_WATER / 2) {
          for (const w of link.drainWaiters.splice(0)) w();
        }
        if (link.unwritten === 0 && link.queue.length === 0) {
          for (const w of link.idleWaiters.splice(0)) w();
        }
      });
      batch = [];
      batchBytes = 0;
    };
    for (const m of queue) {
      const bytes = m instanceof Uint8Array ? m.length : m.head.length + m.body.length;
      if (batchBytes + bytes > this.maxPayload && batch.length > 0) sendBatch();
      batch.push(m);
      batchBytes += bytes;
    }
    sendBatch();
  }
}

/**
 * A frame's bytes as few buffers as can be without copying a message's body: runs of whole
 * messages and heads are joined, bodies stay where they are.
 */
function frameParts(messages: Array<Uint8Array | Parts>): Uint8Array[] {
  if (messages.length === 1 && messages[0] instanceof Uint8Array) return [messages[0]];
  const out: Uint8Array[] = [];
  let run: Uint8Array[] = [];
  for (const m of messages) {
    if (m instanceof Uint8Array) {
      run.push(m);
      continue;
    }
    run.push(m.head);
    out.push(joinFrame(run), m.body);
    run = [];
  }
  if (run.length > 0) out.push(joinFrame(run));
  return out;
}

function serverTls(options: WsTransportOptions): ServerTls | undefined {
  const tls = options.tls;
  if (!tls) return undefined;
  if (tls.kind === 'cert') return { cert: tls.cert, key: tls.key };
  const psk = tlsKey(options.key, 'rank');
  return { psk: (identity) => (identity === options.jobId ? psk : undefined) };
}

function clientTls(options: WsTransportOptions): ClientTls | undefined {
  const tls = options.tls;
  if (!tls) return undefined;
  return tls.kind === 'cert' ? { ca: tls.ca } : { psk: tlsKey(options.key, 'rank'), identity: options.jobId };
}

/** Frames below this size are written as one buffer (a copy); larger ones as their parts. */
const DIRECT_FRAME_LIMIT = 16 * 1024;

/**
 * Writes one binary WebSocket frame of `n` bytes, given as `parts`, straight to the connection's TCP
 * socket. A small frame goes as a single buffer: ws's own sender would write the header and the
 * payload as two (a writev through a corked stream), which costs about 15% more CPU per message. A
 * large one goes as its header and its parts, corked into one writev: nothing of it is copied.
 * Frames are whole and written in order, so they never interleave with ws's own (close, pong). A
 * dialler's frames carry the mask bit and a zero key (see generateMask), so the payload goes
 * unmasked. Relies on ws 8's `_socket` and `_isServer`.
 */
function writeBinaryFrame(ws: WebSocket, parts: Uint8Array[], n: number, done: () => void): void {
  // As ws.send does on a connection that is closing: the frame is not sent.
  if (ws.readyState !== WebSocket.OPEN) return done();
  const internals = ws as unknown as { _socket: Socket; _isServer: boolean };
  const masked = !internals._isServer;
  const lengthBytes = n < 126 ? 0 : n < 65536 ? 2 : 8;
  const headerBytes = 2 + lengthBytes + (masked ? 4 : 0);
  const direct = n < DIRECT_FRAME_LIMIT;
  const out = Buffer.allocUnsafe(headerBytes + (direct ? n : 0));
  out[0] = 0x82; // FIN, binary
  out[1] = (masked ? 0x80 : 0) | (lengthBytes === 0 ? n : lengthBytes === 2 ? 126 : 127);
  if (lengthBytes === 2) out.writeUInt16BE(n, 2);
  else if (lengthBytes === 8) out.writeBigUInt64BE(BigInt(n), 2);
  if (masked) out.writeUInt32BE(0, 2 + lengthBytes);
  const socket = internals._socket;
  if (direct) {
    let at = headerBytes;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    socket.write(out, () => done());
    return;
  }
  socket.cork();
  socket.write(out);
  for (let i = 0; i < parts.length - 1; i++) socket.write(parts[i]);
  socket.write(parts[parts.length - 1], () => done());
  socket.uncork();
}
