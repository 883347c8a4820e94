// Multi-host runs with TLS on every link: three "hosts" as network namespaces made by the test, a
// `dsrun agent --tls-cert --tls-key` in each with a certificate for its own address, the launcher in
// the first with its host's certificate for the coordinator. Skipped (with the reason) where
// namespaces or openssl are not available.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { root } from '../helpers/dsrun.ts';
import { collect, createHosts, netnsUnavailable, waitForLine, type Hosts } from '../helpers/netns.ts';
import { createTestCa, opensslUnavailable, type CertFiles, type TestCa } from '../helpers/test-certs.ts';

const why = netnsUnavailable() ?? opensslUnavailable();
if (why) {
  t.plan(0, `skipped: ${why}`);
} else {
  const env = { DSMPI_SECRET: `tls-test-secret-${process.pid}` };
  const AGENT_PORT = 7411;
  let hosts: Hosts;
  let dir = '';
  let ca: TestCa;
  let stranger: TestCa;
  let certs: CertFiles[] = [];

  t.before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dsmpi-multi-host-tls-'));
    ca = createTestCa(dir, 'ca');
    stranger = createTestCa(dir, 'stranger-ca');
    hosts = createHosts(3);
    certs = hosts.addresses.map((address, i) => ca.issue(`host${i + 1}`, [address]));
    const agents = hosts.addresses.map((address, i) =>
      hosts.dsrun(i, ['agent', '--listen', `${address}:${AGENT_PORT}`, '--tls-cert', certs[i].cert, '--tls-key', certs[i].key], env),
    );
    await Promise.all(agents.map((a) => waitForLine(a, /listening on wss:\/\//)));
  });
  t.teardown(() => {
    hosts?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** host:port of every TCP port listening in host i's namespace, but its agent's. */
  function listeningPorts(i: number): string[] {
    const out = execFileSync('ip', ['netns', 'exec', hosts.names[i], 'ss', '-Htln'], { encoding: 'utf8' });
    return out
      .split('\n')
      .map((line) => line.trim().split(/\s+/)[3])
      .filter((local): local is string => !!local && !local.endsWith(`:${AGENT_PORT}`));
  }

  /** What a client in host i's namespace sees at each host:port (test/fixtures/tls-probe.ts). */
  function probeFrom(i: number, targets: string[]): Array<{ target: string; plain: string; trusted: string; other: string }> {
    const out = execFileSync(
      'ip',
      [
        'netns',
        'exec',
        hosts.names[i],
        process.execPath,
        '--import',
        'tsx',
        'test/fixtures/tls-probe.ts',
        ca.cert,
        stranger.cert,
        ...targets,
      ],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    return out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
  }

  t.test('a 6-rank job across three hosts runs with every link over TLS', async (t) => {
    const go = join(dir, 'go');
    const hostList = hosts.addresses.map((a) => `${a}:2`).join(',');
    const tls = ['--tls-ca', ca.cert, '--tls-cert', certs[0].cert, '--tls-key', certs[0].key];
    const job = hosts.dsrun(0, ['-n', '6', ...tls, '--tag-host', '--hosts', hostList, 'test/fixtures/wait-for-file.ts', go], env);
    const result = collect(job, 90_000);
    await waitForLine(job, /\] ready$/, 60_000, 6);

    // Host 2's two ranks, and the coordinator (every address of host 1), seen from host 3.
    const rankPorts = listeningPorts(1);
    t.equal(rankPorts.length, 2, `host 2 has its two ranks' ports (${rankPorts.join(' ')})`);
    t.ok(
      rankPorts.every((p) => p.startsWith(`${hosts.addresses[1]}:`)),
      'they listen on the host address',
    );
    const coordinatorPorts = listeningPorts(0).filter((p) => p.startsWith('0.0.0.0:'));
    t.equal(coordinatorPorts.length, 1, `the coordinator listens on host 1 (${coordinatorPorts.join(' ')})`);
    const targets = [...rankPorts, coordinatorPorts[0].replace('0.0.0.0', hosts.addresses[0])];
    for (const probe of probeFrom(2, targets)) {
      t.match(probe.plain, /^error: /, `${probe.target}: a plain ws:// connection gets no HTTP answer (${probe.plain})`);
      t.equal(probe.trusted, 'authorized', `${probe.target}: TLS with a certificate of the CA for this address`);
      t.match(probe.other, /^error: .*certificate/, `${probe.target}: a client trusting another CA refuses it`);
    }

    writeFileSync(go, '');
    const r = await result;
    t.equal(r.code, 0, r.stderr);
    hosts.addresses.forEach((address, i) => {
      for (const rank of [2 * i, 2 * i + 1]) t.match(r.stdout, `[rank ${rank}@${address}] ready`);
    });
    t.match(r.stdout, `[rank 0@${hosts.addresses[0]}] sum of ranks = 15`);
  });

  t.test('a plain agent is refused by a TLS launcher', async (t) => {
    const plainAgent = hosts.dsrun(1, ['agent', '--listen', `${hosts.addresses[1]}:7412`, '--insecure-plaintext'], env);
    await waitForLine(plainAgent, /listening on ws:\/\//);
    const tls = ['--tls-ca', ca.cert, '--tls-cert', certs[0].cert, '--tls-key', certs[0].key];
    const r = await collect(
      hosts.dsrun(0, ['-n', '2', ...tls, '--hosts', `${hosts.addresses[1]}:7412:2`, 'examples/hello.ts'], env),
      30_000,
    );
    t.equal(r.code, 125);
    t.match(
      r.stderr,
      new RegExp(
        `cannot use the agent at wss://${hosts.addresses[1].replace(/\./g, '\\.')}:7412: it does not serve TLS \\(start it with --tls-cert`,
      ),
    );
  });
}
