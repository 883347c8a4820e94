/**
 * Authentication of every dsmpi connection (rank ↔ rank, rank ↔ rendezvous, launcher ↔ agent);
 * threat model in docs/security.md.
 *
 * - A job's token is HMAC-SHA256(secret, "dsmpi-job:" + jobId) when the job has a shared secret
 *   (multi-host runs), or a random string (a job on one machine). It never travels on the wire.
 * - A handshake carries the job id, the dialler's rank, a fresh nonce (`<epoch ms>.<random>`) and a
 *   proof = HMAC-SHA256(token, purpose | job | rank | nonce). The server recomputes the proof, refuses
 *   a nonce it has seen (a replay) or one older than NONCE_WINDOW_MS, and answers with its own proof
 *   over the same nonce so that the dialler knows the server holds the token too (mutual).
 * - A handshake recorded in another job names that job's id, and its proof is keyed with that job's
 *   token: refused.
 */
import { Buffer } from 'node:buffer';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, Server } from 'node:http';

/** Handshake headers of every dsmpi connection. */
export const AuthHeader = {
  job: 'x-dsmpi-job',
  rank: 'x-dsmpi-rank',
  nonce: 'x-dsmpi-nonce',
  proof: 'x-dsmpi-proof',
  /** The server's answer (on the 101 response). */
  reply: 'x-dsmpi-reply',
} as const;

/** A nonce is accepted only this close to the server's clock (both ways); seen nonces are kept this long. */
export const NONCE_WINDOW_MS = 5 * 60_000;
/** At most this many remembered nonces per process (a flood of valid handshakes is already an insider). */
const MAX_SEEN = 100_000;

/** What a handshake opens: the proof covers it, so a rank handshake cannot be replayed to an agent. */
export type Purpose = 'rank' | 'control' | 'agent';

export function hmac(key: string, text: string): string {
  return createHmac('sha256', key).update(text).digest('hex');
}

/** The per-job token derived from the shared secret. */
export function jobToken(secret: string, jobId: string): string {
  return hmac(secret, `dsmpi-job:${jobId}`);
}

/** Compares secrets in constant time. */
export function sameString(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function proofText(purpose: Purpose, jobId: string, rank: string, nonce: string): string {
  return `${purpose}|${jobId}|${rank}|${nonce}`;
}

export function newNonce(): string {
  return `${Date.now()}.${randomBytes(16).toString('hex')}`;
}

/** Headers for a handshake of `rank` (or a launcher: -1) in `jobId`, proving it holds `token`. */
export function handshakeHeaders(purpose: Purpose, jobId: string, token: string, rank: number): Record<string, string> {
  const nonce = newNonce();
  return {
    [AuthHeader.job]: jobId,
    [AuthHeader.rank]: String(rank),
    [AuthHeader.nonce]: nonce,
    [AuthHeader.proof]: hmac(token, proofText(purpose, jobId, String(rank), nonce)),
  };
}

/** The server's answer to a handshake: proves it holds the token too. */
export function replyProof(purpose: Purpose, token: string, headers: IncomingHttpHeaders): string {
  return hmac(
    token,
    `reply|${proofText(purpose, String(headers[AuthHeader.job]), String(headers[AuthHeader.rank]), String(headers[AuthHeader.nonce]))}`,
  );
}

/** Checks the server's answer against the headers the client sent. */
export function checkReply(purpose: Purpose, token: string, sent: Record<string, string>, reply: string | string[] | undefined): boolean {
  const expected = hmac(token, `reply|${proofText(purpose, sent[AuthHeader.job], sent[AuthHeader.rank], sent[AuthHeader.nonce])}`);
  return sameString(typeof reply === 'string' ? reply : undefined, expected);
}

const seen = new Map<string, number>();

function remember(nonce: string, now: number): void {
  if (seen.size >= MAX_SEEN) {
    for (const [n, at] of seen) {
      if (now - at > NONCE_WINDOW_MS) seen.delete(n);
    }
    // Still full: forget the oldest (insertion order); the time window still bounds replays.
    for (const n of seen.keys()) {
      if (seen.size < MAX_SEEN) break;
      seen.delete(n);
    }
  }
  seen.set(nonce, now);
}

/**
 * Verifies a handshake's headers. Returns undefined if it is good, else why it is refused (for the
 * log; the peer gets only HTTP 401).
 */
export function checkHandshake(purpose: Purpose, headers: IncomingHttpHeaders, jobId: string, token: string): string | undefined {
  const job = headers[AuthHeader.job];
  const rank = headers[AuthHeader.rank];
  const nonce = headers[AuthHeader.nonce];
  const proof = headers[AuthHeader.proof];
  if (typeof job !== 'string' || typeof rank !== 'string' || typeof nonce !== 'string' || typeof proof !== 'string') {
    return 'wrong or missing job token (no proof)';
  }
  if (job !== jobId) return 'wrong or missing job token (another job)';
  if (!sameString(proof, hmac(token, proofText(purpose, job, rank, nonce)))) return 'wrong or missing job token (bad proof)';
  const now = Date.now();
  const at = Number(nonce.split('.')[0]);
  if (!(Math.abs(now - at) <= NONCE_WINDOW_MS)) return 'stale handshake (clock skew over 5 min, or a replay)';
  if (seen.has(nonce)) return 'replayed handshake';
  remember(nonce, now);
  return undefined;
}

/**
 * Limits on a listening HTTP server behind a WebSocketServer: at most `maxConnections` open sockets,
 * and a connection must send its handshake within a few seconds, so a flood of idle or bogus
 * connections cannot exhaust the process.
 */
export function hardenServer(server: Server | undefined, maxConnections: number): void {
  if (!server) return;
  server.maxConnections = maxConnections;
  server.headersTimeout = 5_000;
  server.requestTimeout = 10_000;
  server.maxHeadersCount = 32;
}
