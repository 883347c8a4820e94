/**
 * TLS of a rank (docs/security.md): a rank whose rendezvous is wss:// serves its peers over wss://
 * and dials the rendezvous and its peers over wss:// only. With DSMPI_TLS_CERT/KEY it serves that
 * certificate and verifies the others' against DSMPI_TLS_CA (else the system's CAs) and the address
 * dialled; without them, every link is TLS-PSK with keys derived from the job's (tls-psk.ts).
 */
import { readFileSync } from 'node:fs';
import { DsError, ErrorCode } from '../errors.ts';
import { Env, isTlsUrl } from '../protocol/rendezvous.ts';

export type RankTls =
  | {
      kind: 'cert';
      /** This rank's certificate and private key (PEM), for the server its peers dial. */
      cert: Buffer;
      key: Buffer;
      /** The CA (PEM) the rendezvous's and the peers' certificates must chain to; undefined: the system's. */
      ca?: Buffer;
    }
  | { kind: 'psk' };

function readPem(env: NodeJS.ProcessEnv, name: string): Buffer {
  try {
    return readFileSync(env[name]!);
  } catch (err) {
    throw new DsError(ErrorCode.NoLauncher, `run(): cannot read ${name} (${env[name]}): ${(err as Error).message}`);
  }
}

/** The rank's TLS when its rendezvous is wss:// (a certificate, or TLS-PSK); undefined for a ws:// rendezvous. */
export function rankTlsFromEnv(env: NodeJS.ProcessEnv): RankTls | undefined {
  if (!isTlsUrl(env[Env.rendezvous] ?? '')) return undefined;
  if (!env[Env.tlsCert] && !env[Env.tlsKey]) return { kind: 'psk' };
  if (!env[Env.tlsCert] || !env[Env.tlsKey]) {
    throw new DsError(
      ErrorCode.NoLauncher,
      `run(): ${Env.tlsCert} and ${Env.tlsKey} go together (PEM files of the rank's certificate and key)`,
    );
  }
  return {
    kind: 'cert',
    cert: readPem(env, Env.tlsCert),
    key: readPem(env, Env.tlsKey),
    ca: env[Env.tlsCa] ? readPem(env, Env.tlsCa) : undefined,
  };
}
