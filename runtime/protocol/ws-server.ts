/**
 * The listening side of every dsmpi connection (rank links, the coordinator, agents): a WebSocket
 * server over HTTP (ws://) or HTTPS (wss://, with a certificate or a pre-shared key) that lets a
 * connection through only once it has passed the handshake of runtime/protocol/handshake.ts.
 *
 * Limits (docs/security.md): at most `maxConnections` open sockets, at most `maxPendingPerSource`
 * of them not yet authenticated from any one address, and a connection that has not finished its
 * handshake HANDSHAKE_DEADLINE_MS after it was accepted — whether or not it sent a byte — is closed.
 * That time counts only while this server's event loop could run (running-deadline.ts): a server
 * that was busy or starved answers the handshakes that waited for it rather than cutting them off.
 */
import type { Buffer } from 'node:buffer';
import { createServer as createHttpServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { rmSync } from 'node:fs';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { WebSocketServer, type ServerOptions, type WebSocket } from 'ws';
import { ACCEPTED, HANDSHAKE_DEADLINE_MS, readHello, Refusal, ServerHandshake, type Hello, type Purpose } from './handshake.ts';
import { runningDeadline, type RunningDeadline } from './running-deadline.ts';
import { pskServerOptions } from './tls-psk.ts';

/** TLS of a server: a certificate and its key (PEM), or TLS-PSK with the key of a job (identity: its id). */
/** A connection the server accepted (the `ws` library's socket). */
export type { WebSocket };

export type ServerTls = { cert: string | Buffer; key: string | Buffer } | { psk: (identity: string) => Buffer | undefined };

/** What `authenticated` answers to refuse a connection whose handshake holds (a Refusal code). */
export interface Refuse {
  code: number;
  reason: string;
}

export interface ListenOptions extends Omit<ServerOptions, 'host' | 'port' | 'server' | 'noServer' | 'verifyClient'> {
  host: string;
  /** 0: any free port. */
  port: number;
  /**
   * Also listen on this Unix socket (no TLS), replacing a stale file: peers on this host that
   * know the path dial there (cheaper than TCP over loopback). The same limits and handshake apply.
   */
  unixPath?: string;
  /** At most this many open connections (authenticated or not). */
  maxConnections: number;
  /** At most this many connections from one address that have not finished their handshake. */
  maxPendingPerSource: number;
  tls?: ServerTls;
  purpose: Purpose;
  /**
   * Before the upgrade: the key the dialler must prove it holds, or why it is refused (its HTTP
   * status). Decide on claims only; nothing of the dialler is proven yet.
   */
  admit(hello: Hello): { key: Buffer } | { status: number; reason: string };
  /** The dialler proved its claims: refuse it (duplicate, ...), or nothing to let it in. */
  authenticated?(hello: Hello): Refuse | undefined;
  /** The connection is in: attach handlers now (frames may follow at once). */
  opened(hello: Hello, socket: WebSocket, req: IncomingMessage): void;
  /** A connection refused, for the log (the dialler learns only a status or a close code). */
  refused(reason: string, from: string): void;
}

export interface ListeningServer {
  readonly wss: WebSocketServer;
  readonly port: number;
  /** The URL peers dial to reach this server at `host` (ws:// or wss://). */
  url(host: string): string;
  /** The URL of its Unix socket (ws+unix:…), if it listens on one. */
  readonly unixUrl?: string;
  /** Why it does not listen on the Unix socket it was asked to (it serves TCP only). */
  readonly unixError?: Error;
  /** Stops accepting and ends every connection; resolves once they have ended. */
  close(): Promise<void>;
}

/** What ws answers a request that is not a WebSocket upgrade. */
function upgradeRequired(_req: IncomingMessage, res: ServerResponse): void {
  const body = STATUS_CODES[426]!;
  res.writeHead(426, { 'Content-Length': body.length, 'Content-Type': 'text/plain' });
  res.end(body);
}

function createServer(tls: ServerTls | undefined): Server {
  if (!tls) return createHttpServer(upgradeRequired);
  const options = 'psk' in tls ? pskServerOptions(tls.psk) : { cert: tls.cert, key: tls.key };
  // No TLS handshake timeout of its own: the handshake deadline below covers TLS too.
  return createHttpsServer(options, upgradeRequired);
}

/** Connections over the Unix socket have no address: each gets a number of its own. */
const unixEndpoints = new WeakMap<Socket, string>();
let unixConnections = 0;
const endpoint = (socket: Socket): string =>
  socket.remotePort === undefined
    ? (unixEndpoints.get(socket) ?? unixEndpoints.set(socket, `unix|${++unixConnections}`).get(socket)!)
    : `${socket.remoteAddress}|${socket.remotePort}`;
/** Where a connection comes from: an IP address, or `local` over a Unix socket. */
export const remoteAddress = (socket: Socket): string =>
  socket.remotePort === undefined ? 'local' : (socket.remoteAddress ?? '?').replace(/^::ffff:/, '');

export async function listenWebSocketServer(options: ListenOptions): Promise<ListeningServer> {
  const { host, port, unixPath, maxConnections, maxPendingPerSource, tls, purpose, admit, authenticated, opened, refused, ...wsOptions } =
    options;
  if (unixPath && tls) throw new Error('listenWebSocketServer: a Unix socket serves no TLS');
  const server = createServer(tls);
  server.maxConnections = maxConnections;
  server.headersTimeout = HANDSHAKE_DEADLINE_MS;
  server.requestTimeout = HANDSHAKE_DEADLINE_MS;
  server.maxHeadersCount = 32;

  // Connections that have not finished their handshake, by endpoint (the same for a TLS socket and
  // the TCP socket under it), and how many each address holds.
  const pending = new Map<string, { deadline: RunningDeadline; source: string; socket: Socket }>();
  const pendingBySource = new Map<string, number>();
  const settle = (id: string): void => {
    const entry = pending.get(id);
    if (!entry) return;
    entry.deadline.cancel();
    pending.delete(id);
    const left = pendingBySource.get(entry.source)! - 1;
    if (left === 0) pendingBySource.delete(entry.source);
    else pendingBySource.set(entry.source, left);
  };
  server.on('connection', (socket: Socket) => {
    const source = remoteAddress(socket);
    const held = pendingBySource.get(source) ?? 0;
    if (held >= maxPendingPerSource) {
      refused(`over ${maxPendingPerSource} connections in their handshake from one address`, source);
      socket.destroy();
      return;
    }
    pendingBySource.set(source, held + 1);
    const id = endpoint(socket);
    const deadline = runningDeadline(HANDSHAKE_DEADLINE_MS, () => {
      refused(`no handshake within ${HANDSHAKE_DEADLINE_MS / 1000} s`, source);
      socket.destroy();
    });
    pending.set(id, { deadline, source, socket });
    socket.once('close', () => settle(id));
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    else socket.destroy();
  });

  const handshakes = new WeakMap<IncomingMessage, ServerHandshake>();
  const wss = new WebSocketServer({
    ...wsOptions,
    server,
    verifyClient: ({ req }: { req: IncomingMessage }, done: (ok: boolean, code?: number, message?: string) => void) => {
      const hello = readHello(purpose, req.headers);
      const verdict = typeof hello === 'string' ? { status: 401, reason: hello } : admit(hello);
      if ('reason' in verdict) {
        refused(verdict.reason, remoteAddress(req.socket));
        return done(false, verdict.status, verdict.status === 401 ? 'Unauthorized' : verdict.reason.slice(0, 60));
      }
      const claims = hello as Hello & { nonce: string };
      handshakes.set(
        req,
        new ServerHandshake({ purpose, jobId: claims.jobId, from: claims.from, to: claims.to }, claims.nonce, verdict.key),
      );
      done(true);
    },
  });
  wss.on('headers', (headers, req) => headers.push(...handshakes.get(req)!.headers()));
  wss.on('connection', (socket, req) => {
    const handshake = handshakes.get(req)!;
    const from = remoteAddress(req.socket);
    socket.once('message', (proof: Buffer, isBinary: boolean) => {
      if (!isBinary || !handshake.check(proof)) {
        refused(`${handshake.hello.from} of job ${handshake.hello.jobId}: wrong proof (not a holder of the job's key)`, from);
        socket.terminate();
        return;
      }
      settle(endpoint(req.socket));
      const refusal = authenticated?.(handshake.hello);
      if (refusal) {
        // Two ranks dialling each other at once is normal: not worth a line.
        if (refusal.code !== Refusal.duplicate || purpose !== 'rank')
          refused(`${handshake.hello.from} of job ${handshake.hello.jobId}: ${refusal.reason}`, from);
        socket.close(refusal.code, refusal.reason);
        return;
      }
      socket.send(ACCEPTED);
      opened(handshake.hello, socket, req);
    });
  });
  // ws re-emits the server's errors on wss: a failed listen() rejects here.
  await new Promise<void>((resolve, reject) => {
    wss.once('error', reject);
    server.listen(port, host, () => {
      wss.off('error', reject);
      resolve();
    });
  });
  const { unixServer, unixError } = unixPath ? await listenUnix(unixPath, server, maxConnections) : {};
  unixServer?.on('error', (err) => wss.emit('error', err));
  const scheme = tls ? 'wss' : 'ws';
  const bound = (server.address() as { port: number }).port;
  return {
    wss,
    port: bound,
    url: (at) => `${scheme}://${at.includes(':') ? `[${at}]` : at}:${bound}`,
    unixUrl: unixServer && `ws+unix:${unixPath}:/`,
    unixError,
    close: () =>
      new Promise<void>((resolve) => {
        let open = unixServer ? 2 : 1;
        const closed = (): void => {
          if (--open === 0) resolve();
        };
        server.close(closed);
        unixServer?.close(closed);
        for (const entry of pending.values()) entry.socket.destroy();
        for (const socket of wss.clients) socket.terminate();
        wss.close();
      }),
  };
}

/**
 * A listener on the Unix socket `path` whose connections go to `server` as if it had accepted them
 * (a stale file there is replaced); if it cannot listen, why.
 */
async function listenUnix(path: string, server: Server, maxConnections: number): Promise<{ unixServer?: NetServer; unixError?: Error }> {
  const unixServer = createNetServer((socket) => server.emit('connection', socket));
  unixServer.maxConnections = maxConnections;
  try {
    rmSync(path, { force: true });
    await new Promise<void>((resolve, reject) => {
      unixServer.once('error', reject);
      unixServer.listen(path, () => {
        unixServer.off('error', reject);
        resolve();
      });
    });
    return { unixServer };
  } catch (err) {
    unixServer.close();
    return { unixError: err as Error };
  }
}
