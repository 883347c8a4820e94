/**
 * Throwaway certificates for TLS tests, made with the openssl command in a directory the test owns:
 * a CA, and server certificates it signs that name IP addresses (Node checks the address dialled
 * against the certificate's IP SANs).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CertFiles {
  cert: string;
  key: string;
}

export interface TestCa {
  /** The CA's certificate (PEM file): what DSMPI_TLS_CA / --tls-ca name. */
  cert: string;
  /** A certificate signed by this CA for these IP addresses. */
  issue(name: string, ips: string[]): CertFiles;
}

/** Why openssl cannot be used here, or undefined if it can. */
export function opensslUnavailable(): string | undefined {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'the openssl command is not installed';
  }
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A new CA in `dir`, its files named after `name`. */
export function createTestCa(dir: string, name: string): TestCa {
  const caCert = join(dir, `${name}.pem`);
  const caKey = join(dir, `${name}.key`);
  openssl([
    'req',
    '-x509',
    ...EC_KEY,
    '-keyout',
    caKey,
    '-out',
    caCert,
    '-days',
    '1',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign',
  ]);
  return {
    cert: caCert,
    issue: (host, ips) => {
      const base = join(dir, `${name}-${host}`);
      const files = { cert: `${base}.pem`, key: `${base}.key` };
      writeFileSync(
        `${base}.ext`,
        `subjectAltName=${ips.map((ip) => `IP:${ip}`).join(',')}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`,
      );
      openssl(['req', ...EC_KEY, '-keyout', files.key, '-out', `${base}.csr`, '-subj', `/CN=${host}`]);
      openssl([
        'x509',
        '-req',
        '-in',
        `${base}.csr`,
        '-CA',
        caCert,
        '-CAkey',
        caKey,
        '-CAcreateserial',
        '-out',
        files.cert,
        '-days',
        '1',
        '-extfile',
        `${base}.ext`,
      ]);
      return files;
    },
  };
}
