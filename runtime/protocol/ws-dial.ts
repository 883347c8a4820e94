/**
 * The dialling side of every dsmpi connection: a WebSocket that is handed over only once the
 * handshake of runtime/protocol/handshake.ts has passed both ways.
 */
import { Buffer } from 'node:buffer';
import { WebSocket, type ClientOptions } from 'ws';
import { ACCEPTED, ClientHandshake, HandshakeHeader, HANDSHAKE_DEADLINE_MS, type Hello } from './handshake.ts';
import { runningDeadline, type RunningDeadline } from './running-deadline.ts';
import { pskClientOptions } from './tls-psk.ts';

export type { WebSocket };

/** Whether `socket` is open (it takes sends). */
export function isOpen(socket: WebSocket): boolean {
  return socket.readyState === WebSocket.OPEN;
}

/** TLS of a dialler: verify the server's certificate (against `ca`, else the system's CAs), or TLS-PSK. */
export type ClientTls = { ca?: Buffer } | { psk: Buffer; identity: string };

export interface DialOptions {
  url: string;
  hello: Hello;
  /** The key both sides derive the link's key from (runtime/protocol/keys.ts). */
  key: Buffer;
  tls?: ClientTls;
  ws?: Pick<ClientOptions, 'maxPayload' | 'generateMask'>;
}

/** Why a dial failed: `status` when refused before the upgrade, `code` when closed after it (a Refusal). */
export class DialError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: number,
  ) {
    super(message);
  }
}

export interface DialEvents {
  /** The handshake passed: attach handlers now, synchronously (frames may follow at once). */
  open(socket: WebSocket): void;
  fail(err: DialError): void;
}

/** A connection error, with a hint when the peer's certificate was not accepted. */
export function describeConnectError(err: Error): string {
  const code = (err as { code?: string }).code ?? '';
  if (/CERT|SIGNATURE|ISSUER|ALTNAME/.test(code)) {
    return `${err.message} (TLS: the certificate must chain to DSMPI_TLS_CA and name the address dialled)`;
  }
  return err.message;
}

function tlsOptions(tls: ClientTls | undefined): ClientOptions {
  if (!tls) return {};
  if ('psk' in tls) return pskClientOptions(tls.identity, tls.psk) as ClientOptions;
  return tls.ca ? { ca: tls.ca } : {};
}

/**
 * How long a dialler that has reached a server waits for it to finish the handshake. An honest
 * server answers, or closes the connection, within HANDSHAKE_DEADLINE_MS of the time its own event
 * loop could run (ws-server.ts); a server busy starting a big job on a loaded machine stretches that
 * in wall-clock time, so the dialler leaves the verdict to it and only gives up on one that holds
 * the connection and never answers (a hung process, or not a dsmpi server).
 */
export const ANSWER_DEADLINE_MS = 60_000;

export function dial(options: DialOptions, events: DialEvents): WebSocket {
  const handshake = new ClientHandshake(options.hello, options.key);
  let proof: Buffer | undefined;
  let settled = false;
  let deadline: RunningDeadline | undefined;
  // Reached the server (TCP, which its kernel answers): from here the server decides.
  const connected = (): void => {
    if (settled) return;
    deadline?.cancel();
    deadline = runningDeadline(ANSWER_DEADLINE_MS, () =>
      fail(new DialError(`no answer to the handshake within ${ANSWER_DEADLINE_MS / 1000} s`)),
    );
  };
  const socket = new WebSocket(options.url, {
    headers: handshake.headers(),
    perMessageDeflate: false,
    finishRequest: (req) => {
      req.once('socket', (tcp) => (tcp.connecting ? tcp.once('connect', connected) : connected()));
      req.end();
    },
    ...options.ws,
    ...tlsOptions(options.tls),
  });
  socket.binaryType = 'nodebuffer';
  deadline = runningDeadline(HANDSHAKE_DEADLINE_MS, () => fail(new DialError(`no connection within ${HANDSHAKE_DEADLINE_MS / 1000} s`)));
  const fail = (err: DialError): void => {
    if (settled) return;
    settled = true;
    deadline?.cancel();
    socket.terminate();
    events.fail(err);
  };
  socket.on('upgrade', (res) => {
    proof = handshake.answer(res.headers[HandshakeHeader.nonce], res.headers[HandshakeHeader.proof]);
    if (!proof)
      fail(new DialError(`${options.hello.to} did not prove it holds the job's key (not the same shared secret, or an impostor)`));
  });
  socket.on('unexpected-response', (_req, res) => {
    const why =
      res.statusCode === 401 ? 'refused (HTTP 401): not the same shared secret, or not this job' : `refused (HTTP ${res.statusCode})`;
    fail(new DialError(why, res.statusCode));
  });
  socket.on('error', (err) => fail(new DialError(describeConnectError(err))));
  socket.once('open', () => {
    if (!settled && proof) socket.send(proof);
  });
  const onClose = (code: number, reason: Buffer): void =>
    fail(new DialError(`closed during the handshake (${code}${reason.length ? ` ${reason}` : ''})`, undefined, code));
  const onFirst = (data: Buffer): void => {
    socket.off('message', onFirst);
    if (settled) return;
    if (!ACCEPTED.equals(data)) return fail(new DialError('unexpected answer to the handshake'));
    settled = true;
    deadline?.cancel();
    socket.off('close', onClose);
    events.open(socket);
  };
  socket.on('message', onFirst);
  socket.on('close', onClose);
  return socket;
}
