/**
 * The listening side of rank and rendezvous connections: a WebSocket server over HTTP (ws://) or,
 * given a certificate, over HTTPS (wss://). Limits as in auth.ts hardenServer.
 */
import { createServer as createHttpServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { WebSocketServer, type ServerOptions } from 'ws';
import { hardenServer } from './auth.ts';

/** A server's certificate and private key (PEM). */
export interface ServerTls {
  cert: string | Buffer;
  key: string | Buffer;
}

export interface ListenOptions extends Omit<ServerOptions, 'host' | 'port' | 'server' | 'noServer'> {
  host: string;
  /** 0: any free port. */
  port: number;
  /** At most this many open connections (authenticated or not). */
  maxConnections: number;
  /** Serve wss:// with this certificate; plain ws:// without. */
  tls?: ServerTls;
}

export interface ListeningServer {
  readonly wss: WebSocketServer;
  readonly port: number;
  /** The URL peers dial to reach this server at `host` (ws:// or wss://). */
  url(host: string): string;
  /** Stops accepting; resolves once every connection has ended. */
  close(): Promise<void>;
}

/** A TLS client that has not finished its handshake within this time is cut off. */
const TLS_HANDSHAKE_TIMEOUT_MS = 5_000;

/** What ws answers a request that is not a WebSocket upgrade. */
function upgradeRequired(_req: IncomingMessage, res: ServerResponse): void {
  const body = STATUS_CODES[426]!;
  res.writeHead(426, { 'Content-Length': body.length, 'Content-Type': 'text/plain' });
  res.end(body);
}

export async function listenWebSocketServer(options: ListenOptions): Promise<ListeningServer> {
  const { host, port, maxConnections, tls, ...wsOptions } = options;
  const server: Server = tls
    ? createHttpsServer({ cert: tls.cert, key: tls.key, handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS }, upgradeRequired)
    : createHttpServer(upgradeRequired);
  hardenServer(server, maxConnections);
  const wss = new WebSocketServer({ ...wsOptions, server });
  // ws re-emits the server's errors on wss: a failed listen() rejects here.
  await new Promise<void>((resolve, reject) => {
    wss.once('error', reject);
    server.listen(port, host, () => {
      wss.off('error', reject);
      resolve();
    });
  });
  const scheme = tls ? 'wss' : 'ws';
  const bound = (server.address() as { port: number }).port;
  return {
    wss,
    port: bound,
    url: (at) => `${scheme}://${at.includes(':') ? `[${at}]` : at}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        wss.close();
        server.close(() => resolve());
      }),
  };
}
