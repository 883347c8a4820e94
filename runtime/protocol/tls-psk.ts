/**
 * TLS with a pre-shared key (node:tls pskCallback): encryption and mutual authentication from the
 * job's keys alone, with no certificates (docs/security.md). TLS 1.2, the one version whose PSK
 * suites Node offers, with one suite: ephemeral ECDH (forward secrecy) and ChaCha20-Poly1305 (AEAD,
 * RFC 7905). The PSK identity is the job id, so a server of many jobs (an agent) finds the key.
 */
import type { Buffer } from 'node:buffer';
import type { ConnectionOptions, TlsOptions } from 'node:tls';

const PSK_TLS = { ciphers: 'ECDHE-PSK-CHACHA20-POLY1305', minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' } as const;

/** A server's TLS-PSK options; `keyFor(identity)` is the key of that job, or undefined to refuse it. */
export function pskServerOptions(keyFor: (identity: string) => Buffer | undefined): TlsOptions {
  return { ...PSK_TLS, pskCallback: (_socket, identity) => keyFor(identity) ?? null };
}

/** A dialler's TLS-PSK options. */
export function pskClientOptions(identity: string, psk: Buffer): ConnectionOptions {
  return {
    ...PSK_TLS,
    pskCallback: () => ({ identity, psk }),
    // The pre-shared key authenticates the server; it has no certificate to check.
    checkServerIdentity: () => undefined,
  };
}
