/**
 * Probes of a server's port for the TLS tests: does a plain WebSocket get an HTTP answer, and does a
 * TLS client that trusts a given CA accept the server's certificate for the address dialled?
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { WebSocket } from 'ws';

const PROBE_LIMIT_MS = 5_000;

/** `HTTP <status>` or `open` if a plain ws:// connection got an answer, else `error: …`. */
export function plainWebSocket(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://${host}:${port}`, { handshakeTimeout: PROBE_LIMIT_MS });
    ws.on('unexpected-response', (_req, res) => {
      resolve(`HTTP ${res.statusCode}`);
      ws.terminate();
    });
    ws.on('open', () => {
      resolve('open');
      ws.terminate();
    });
    ws.on('error', (err) => resolve(`error: ${err.message}`));
  });
}

/** `authorized` if a TLS client trusting `caFile` verifies the server at host:port, else why not. */
export function tlsHandshake(host: string, port: number, caFile: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, ca: readFileSync(caFile), timeout: PROBE_LIMIT_MS }, () => {
      resolve(socket.authorized ? 'authorized' : `not authorized: ${String(socket.authorizationError)}`);
      socket.end();
    });
    socket.on('timeout', () => {
      resolve('error: timed out');
      socket.destroy();
    });
    socket.on('error', (err) => resolve(`error: ${err.message}`));
  });
}
