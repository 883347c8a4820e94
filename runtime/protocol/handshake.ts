/**
 * The handshake of every dsmpi connection (launcher ↔ agent, rank ↔ coordinator, rank ↔ rank), a
 * mutual challenge–response (docs/security.md):
 *
 *   1. dialler → server   HTTP upgrade with  job, from, to, nonceC           (x-dsmpi-* headers)
 *   2. server → dialler   101 answer with    nonceS, serverProof = MAC("server" | transcript)
 *   3. dialler → server   first frame:       clientProof = MAC("client" | transcript)
 *   4. server → dialler   first frame:       ACCEPTED, or a close with a Refusal code
 *
 * transcript = purpose | job | from | to | nonceC | nonceS, MAC = HMAC-SHA256 keyed with
 * linkKey(purpose, from, to) (keys.ts). Each side's proof covers a fresh random nonce of the other,
 * so a recorded handshake replays nowhere — not to the same server, another one, or one restarted
 * since — with no memory of past nonces; both identities and the purpose are under the MAC, so a
 * handshake to one party proves nothing to another. Neither key nor secret is ever sent.
 */
import { Buffer } from 'node:buffer';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { linkKey } from './keys.ts';

export const HandshakeHeader = {
  job: 'x-dsmpi-job',
  from: 'x-dsmpi-from',
  to: 'x-dsmpi-to',
  nonce: 'x-dsmpi-nonce',
  proof: 'x-dsmpi-proof',
} as const;

/** What a connection opens; under the MAC, so a handshake for one purpose is no good for another. */
export type Purpose = 'agent' | 'control' | 'rank';

/** The parties: `launcher`, `agent`, `coordinator`, `rank:N`. */
export const Party = {
  launcher: 'launcher',
  agent: 'agent',
  coordinator: 'coordinator',
  rank: (rank: number): string => `rank:${rank}`,
} as const;

/** The rank a `rank:N` party names, or undefined. */
export function rankOf(party: string | undefined): number | undefined {
  const m = /^rank:(0|[1-9]\d{0,8})$/.exec(party ?? '');
  return m ? Number(m[1]) : undefined;
}

/** A connection that has not finished its handshake this long after it was accepted is closed. */
export const HANDSHAKE_DEADLINE_MS = 5_000;

/** The server's first frame once the dialler's proof holds. */
export const ACCEPTED = Buffer.from([1]);

/** Close codes of a connection refused after the upgrade (the WebSocket private range). */
export const Refusal = {
  /** The dialler's proof is wrong (not a holder of the key). */
  badProof: 4401,
  /** The party already has a connection (a rank link dialled both ways: the lower rank's wins). */
  duplicate: 4409,
  /** The server is closing, or the party is gone from the job. */
  gone: 4410,
} as const;

/** A job id: what agents accept in a handshake (the launcher makes them of nanoid's alphabet). */
export const JOB_ID = /^[A-Za-z0-9_-]{1,64}$/;
const NONCE = /^[0-9a-f]{64}$/;

export interface Hello {
  purpose: Purpose;
  jobId: string;
  from: string;
  to: string;
}

export function newNonce(): string {
  return randomBytes(32).toString('hex');
}

function transcript(hello: Hello, nonceC: string, nonceS: string): string {
  return [hello.purpose, hello.jobId, hello.from, hello.to, nonceC, nonceS].join('|');
}

function mac(base: Buffer, hello: Hello, role: 'server' | 'client', nonceC: string, nonceS: string): Buffer {
  return createHmac('sha256', linkKey(base, hello.purpose, hello.from, hello.to))
    .update(`${role}|${transcript(hello, nonceC, nonceS)}`)
    .digest();
}

function same(given: Uint8Array | undefined, expected: Buffer): boolean {
  return given !== undefined && given.length === expected.length && timingSafeEqual(given, expected);
}

/** The dialler's side: the upgrade headers, then the checks and the proof of steps 2 and 3. */
export class ClientHandshake {
  readonly nonce = newNonce();
  constructor(
    readonly hello: Hello,
    private readonly key: Buffer,
  ) {}

  headers(): Record<string, string> {
    return {
      [HandshakeHeader.job]: this.hello.jobId,
      [HandshakeHeader.from]: this.hello.from,
      [HandshakeHeader.to]: this.hello.to,
      [HandshakeHeader.nonce]: this.nonce,
    };
  }

  /** Checks the server's 101 answer; returns the proof to send as the first frame, or undefined if the server is an impostor. */
  answer(serverNonce: unknown, serverProof: unknown): Buffer | undefined {
    if (typeof serverNonce !== 'string' || !NONCE.test(serverNonce) || typeof serverProof !== 'string') return undefined;
    const expected = mac(this.key, this.hello, 'server', this.nonce, serverNonce);
    if (!same(Buffer.from(serverProof, 'hex'), expected)) return undefined;
    return mac(this.key, this.hello, 'client', this.nonce, serverNonce);
  }
}

/** The claims of a dialler's upgrade request, or why they are malformed. */
export function readHello(purpose: Purpose, headers: Record<string, string | string[] | undefined>): (Hello & { nonce: string }) | string {
  const job = headers[HandshakeHeader.job];
  const from = headers[HandshakeHeader.from];
  const to = headers[HandshakeHeader.to];
  const nonce = headers[HandshakeHeader.nonce];
  if (typeof job !== 'string' || typeof from !== 'string' || typeof to !== 'string' || typeof nonce !== 'string') {
    return 'no dsmpi handshake';
  }
  if (!JOB_ID.test(job) || !NONCE.test(nonce) || from.length > 32 || to.length > 32) return 'malformed handshake';
  return { purpose, jobId: job, from, to, nonce };
}

/** The server's side of one connection: its nonce and proof (step 2), then the check of step 3. */
export class ServerHandshake {
  readonly nonce = newNonce();
  constructor(
    readonly hello: Hello,
    private readonly clientNonce: string,
    private readonly key: Buffer,
  ) {}

  /** Headers of the 101 answer. */
  headers(): string[] {
    const proof = mac(this.key, this.hello, 'server', this.clientNonce, this.nonce).toString('hex');
    return [`${HandshakeHeader.nonce}: ${this.nonce}`, `${HandshakeHeader.proof}: ${proof}`];
  }

  /** Whether the dialler's first frame is its proof. */
  check(frame: Uint8Array): boolean {
    return same(frame, mac(this.key, this.hello, 'client', this.clientNonce, this.nonce));
  }
}
