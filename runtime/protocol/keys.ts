/**
 * The keys of a job (docs/security.md), all derived with HKDF-SHA256 (RFC 5869, node:crypto) and
 * none ever sent on the wire:
 *
 *   shared secret ─┬─ agentKey(job)  launcher ↔ agent: only the launcher and the agents hold it
 *                  └─ ranksKey(job)  the job's ranks and its coordinator; an agent hands it to the
 *                        │           ranks it starts (environment, on its own host)
 *                        └─ linkKey(purpose, from, to), tlsKey(purpose): per link and per use
 *
 * The job id is the salt, so every job has keys of its own; a rank cannot reach an agent, because
 * it never holds agentKey. A job on one machine without a secret uses a random ranks key instead.
 */
import { Buffer } from 'node:buffer';
import { hkdfSync, randomBytes } from 'node:crypto';
import { KEY_BYTES } from './key-text.ts';

export { keyFromText, keyToText } from './key-text.ts';

function derive(keyMaterial: Buffer | string, salt: string, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', keyMaterial, salt, info, KEY_BYTES));
}

/** What the launcher and the agents use to open and serve a job's agent connections. */
export function agentKey(secret: string, jobId: string): Buffer {
  return derive(secret, jobId, 'dsmpi agent');
}

/** What the ranks and the coordinator of a job use; the agents derive it for the ranks they start. */
export function ranksKey(secret: string, jobId: string): Buffer {
  return derive(secret, jobId, 'dsmpi ranks');
}

/** A job on one machine without a shared secret. */
export function randomKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** The key that proves one party to another on one kind of link (handshake.ts). */
export function linkKey(base: Buffer, purpose: string, from: string, to: string): Buffer {
  return derive(base, purpose, `dsmpi link|${from}|${to}`);
}

/** The TLS pre-shared key of one kind of link of a job (TLS-PSK, rank-tls.ts). */
export function tlsKey(base: Buffer, purpose: string): Buffer {
  return derive(base, purpose, 'dsmpi tls-psk');
}
