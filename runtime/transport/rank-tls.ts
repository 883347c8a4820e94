/**
 * TLS of a rank (docs/security.md): a rank whose rendezvous is wss:// serves its peers over wss://
 * with its own certificate (DSMPI_TLS_CERT, DSMPI_TLS_KEY) and dials the rendezvous and its peers
 * over wss:// only, verifying their certificates against DSMPI_TLS_CA (else the system's CAs) and
 * the address dialled.
 */
import { readFileSync } from 'node:fs';
import { DsError, ErrorCode } from '../errors.ts';
import { Env } from '../protocol/rendezvous.ts';

export interface RankTls {
  /** This rank's certificate and private key (PEM), for the server its peers dial. */
  cert: Buffer;
  key: Buffer;
  /** The CA (PEM) the rendezvous's and the peers' certificates must chain to; undefined: the system's. */
  ca?: Buffer;
}

export function isTlsUrl(url: string): boolean {
  return url.startsWith('wss://');
}

function readPem(env: NodeJS.ProcessEnv, name: string): Buffer {
  try {
    return readFileSync(env[name]!);
  } catch (err) {
    throw new DsError(ErrorCode.NoLauncher, `run(): cannot read ${name} (${env[name]}): ${(err as Error).message}`);
  }
}

/** The rank's TLS material when its rendezvous is wss://; undefined for a ws:// rendezvous. */
export function rankTlsFromEnv(env: NodeJS.ProcessEnv): RankTls | undefined {
  if (!isTlsUrl(env[Env.rendezvous] ?? '')) return undefined;
  if (!env[Env.tlsCert] || !env[Env.tlsKey]) {
    throw new DsError(
      ErrorCode.NoLauncher,
      `run(): ${Env.rendezvous} is wss://, so this rank needs ${Env.tlsCert} and ${Env.tlsKey} (PEM files of its own certificate and key; ${Env.tlsCa}: the CA to trust)`,
    );
  }
  return {
    cert: readPem(env, Env.tlsCert),
    key: readPem(env, Env.tlsKey),
    ca: env[Env.tlsCa] ? readPem(env, Env.tlsCa) : undefined,
  };
}

/** A connection error, with a hint when the peer's certificate was not accepted. */
export function describeConnectError(err: Error): string {
  const code = (err as { code?: string }).code ?? '';
  if (/CERT|SIGNATURE|ISSUER|ALTNAME/.test(code)) {
    return `${err.message} (TLS: the certificate must chain to ${Env.tlsCa} and name the address dialled)`;
  }
  return err.message;
}
