// TLS on one machine, as under mpirun or srun: a `dsrun rendezvous --tls-cert F --tls-key F` and
// ranks started with OMPI_COMM_WORLD_* (what mpirun sets) and DSMPI_TLS_*. Throwaway certificates
// for 127.0.0.1 come from openssl.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { dsrun, root } from '../helpers/dsrun.ts';
import { collect, waitForLine } from '../helpers/netns.ts';
import { createTestCa, opensslUnavailable } from '../helpers/test-certs.ts';
import { plainWebSocket, tlsHandshake } from '../helpers/tls-probe.ts';

const why = opensslUnavailable();
if (why) {
  t.plan(0, `skipped: ${why}`);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'dsmpi-rendezvous-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ca = createTestCa(dir, 'ca');
  const stranger = createTestCa(dir, 'stranger-ca');
  const server = ca.issue('rendezvous', ['127.0.0.1']);
  const rankCert = ca.issue('ranks', ['127.0.0.1']);
  const baseEnv: NodeJS.ProcessEnv = { ...process.env, DSMPI_SECRET: 'rendezvous-tls-secret' };
  delete baseEnv.NODE_OPTIONS;
  const tlsEnv = { DSMPI_TLS_CERT: rankCert.cert, DSMPI_TLS_KEY: rankCert.key, DSMPI_TLS_CA: ca.cert };

  function start(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
    return spawn(process.execPath, args, { cwd: root, env: { ...baseEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  }

  /** A `dsrun rendezvous -n <n>` with the server certificate; resolves with its wss:// address. */
  async function rendezvous(n: number): Promise<{ child: ChildProcess; url: string; ended: ReturnType<typeof collect> }> {
    const child = start([`${root}launcher/dsrun.mjs`, 'rendezvous', '-n', String(n), '--tls-cert', server.cert, '--tls-key', server.key]);
    const line = await waitForLine(child, /^DSMPI_RENDEZVOUS=/);
    return { child, url: line.slice('DSMPI_RENDEZVOUS='.length), ended: collect(child, 60_000) };
  }

  /** Rank `rank` of `size` of examples/hello.ts, as mpirun would start it. */
  function rank(rank: number, size: number, env: NodeJS.ProcessEnv): ReturnType<typeof collect> {
    const child = start(['--import', 'tsx', 'examples/hello.ts'], {
      OMPI_COMM_WORLD_RANK: String(rank),
      OMPI_COMM_WORLD_SIZE: String(size),
      ...env,
    });
    return collect(child, 60_000);
  }

  t.test('a 4-rank job through a wss:// rendezvous', async (t) => {
    const r = await rendezvous(4);
    t.match(r.url, /^wss:\/\/127\.0\.0\.1:\d+$/);
    const port = Number(new URL(r.url).port);
    const plain = await plainWebSocket('127.0.0.1', port);
    t.match(plain, /^error: /, `a plain ws:// connection to the rendezvous gets no HTTP answer (${plain})`);
    t.equal(await tlsHandshake('127.0.0.1', port, ca.cert), 'authorized', 'a TLS client trusting the CA verifies the rendezvous');
    t.match(await tlsHandshake('127.0.0.1', port, stranger.cert), /^error: .*certificate/, 'a client trusting another CA refuses it');

    const results = await Promise.all([0, 1, 2, 3].map((i) => rank(i, 4, { DSMPI_RENDEZVOUS: r.url, ...tlsEnv })));
    results.forEach((res, i) => {
      t.equal(res.code, 0, res.stderr);
      t.match(res.stdout, `hello from rank ${i} of 4`);
    });
    t.match(results[0].stdout, 'sum of ranks = 6');
    t.equal((await r.ended).code, 0, 'the rendezvous ends with the job');
  });

  t.test('a rank that trusts another CA does not register with the rendezvous', async (t) => {
    const r = await rendezvous(1);
    const res = await rank(0, 1, { DSMPI_RENDEZVOUS: r.url, ...tlsEnv, DSMPI_TLS_CA: stranger.cert });
    t.not(res.code, 0);
    t.match(
      res.stderr,
      /cannot reach the rendezvous at wss:\/\/127\.0\.0\.1:\d+: unable to verify the first certificate \(TLS: the certificate must chain to DSMPI_TLS_CA/,
    );
    t.notMatch(res.stdout, /hello/);
    process.kill(-r.child.pid!, 'SIGTERM');
    t.equal((await r.ended).code, 130, 'the rendezvous still waits for its rank until stopped');
  });

  t.test('inconsistent TLS settings are refused with what to do', async (t) => {
    const noKey = await rank(0, 2, { DSMPI_RENDEZVOUS: 'wss://127.0.0.1:9', DSMPI_TLS_CERT: tlsEnv.DSMPI_TLS_CERT });
    t.match(noKey.stderr, /DSMPI_TLS_CERT and DSMPI_TLS_KEY go together/);
    const plainRendezvous = await rank(0, 2, { DSMPI_RENDEZVOUS: 'ws://127.0.0.1:9', ...tlsEnv });
    t.match(
      plainRendezvous.stderr,
      /DSMPI_TLS_CERT is set, but DSMPI_RENDEZVOUS is ws:\/\/127\.0\.0\.1:9: start `dsrun rendezvous` with --tls-cert\/--tls-key/,
    );
    const halfPair = await dsrun(['rendezvous', '-n', '1', '--tls-cert', server.cert]);
    t.equal(halfPair.code, 2);
    t.match(halfPair.stderr, /--tls-cert and --tls-key go together/);
    const oneMachine = await dsrun(['-n', '2', '--tls-cert', server.cert, '--tls-key', server.key, 'examples/hello.ts']);
    t.equal(oneMachine.code, 2);
    t.match(oneMachine.stderr, /apply to jobs on several hosts/);
    const agentsOnly = await dsrun(['-n', '2', '--hosts', '127.0.0.1:2', '--tls-ca', ca.cert, 'examples/hello.ts']);
    t.equal(agentsOnly.code, 2);
    t.match(agentsOnly.stderr, /the rendezvous coordinator on this machine needs a certificate too: add --tls-cert FILE --tls-key FILE/);
  });
}
