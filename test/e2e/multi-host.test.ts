// Multi-host runs over a real network: three "hosts" as network namespaces made by the test, a
// `dsrun agent` in each, the launcher in the first. Skipped (with the reason) where namespaces
// cannot be created (not root, not Linux, no `ip`).
import t from 'tap';
import { dsrun } from '../helpers/dsrun.ts';
import { collect, createHosts, netnsUnavailable, waitForLine, type Hosts } from '../helpers/netns.ts';

const why = netnsUnavailable();
if (why) {
  t.plan(0, `skipped: ${why}`);
} else {
  const SECRET = `test-secret-${process.pid}`;
  const env = { DSMPI_SECRET: SECRET };
  let hosts: Hosts;
  let hostList = '';
  let agents: ReturnType<Hosts['dsrun']>[] = [];

  t.before(async () => {
    hosts = createHosts(3);
    agents = hosts.addresses.map((address, i) => hosts.dsrun(i, ['agent', '--listen', `${address}:7411`], env));
    await Promise.all(agents.map((a) => waitForLine(a, /listening on wss:\/\//)));
    hostList = `${hosts.addresses[0]}:3,${hosts.addresses[1]}:3,${hosts.addresses[2]}:2`;
  });
  t.teardown(() => hosts?.destroy());

  const decided = (stdout: string): string[] =>
    stdout
      .split('\n')
      .filter((l) => /\] decided /.test(l))
      .sort();

  t.test('8-rank paxos across three hosts decides as on one host', async (t) => {
    const one = await dsrun(['-n', '8', '--seed', '7', 'examples/paxos.ts']);
    t.equal(one.code, 0, one.stderr);
    const r = await collect(hosts.dsrun(0, ['-n', '8', '--seed', '7', '--hosts', hostList, 'examples/paxos.ts'], env), 60_000);
    t.equal(r.code, 0, r.stderr);
    t.equal(decided(r.stdout).length, 8);
    t.same(decided(r.stdout), decided(one.stdout), 'same decision on every rank as on one host');
    const tagged = await collect(hosts.dsrun(0, ['-n', '4', '--tag-host', '--hosts', hostList, 'examples/hello.ts'], env), 60_000);
    t.equal(tagged.code, 0, tagged.stderr);
    t.match(tagged.stdout, `[rank 3@${hosts.addresses[1]}] hello from rank 3 of 4`);
  });

  t.test('-x, --no-ship and a failing rank behave as on one machine', async (t) => {
    const r = await collect(hosts.dsrun(0, ['-n', '3', '--hosts', hostList, '--no-ship', 'test/fixtures/throws.ts'], env), 60_000);
    t.equal(r.code, 1, r.stderr);
    t.match(r.stderr, /rank 1 failed \(exit code 1\): Error: boom on purpose/);
  });

  t.test('a partitioned minority host: the majority finishes', async (t) => {
    const job = hosts.dsrun(
      0,
      ['-n', '8', '--hosts', hostList, '--heartbeat-ms', '500', 'test/fixtures/sequence-paxos-ready.ts', '400'],
      env,
    );
    const result = collect(job, 90_000);
    // Once every rank is past the opening barrier, cut host 3's link (ranks 6 and 7).
    await waitForLine(job, /\] ready$/, 60_000, 8);
    hosts.exec(2, ['ip', 'link', 'set', 'eth0', 'down']);
    const r = await result;
    hosts.exec(2, ['ip', 'link', 'set', 'eth0', 'up']);
    t.equal(r.code, 0, r.stderr);
    const logs = r.stdout.split('\n').filter((l) => / log \[/.test(l));
    const byRank = new Map(logs.map((l) => [Number(/rank (\d)/.exec(l)![1]), l.replace(/^\[rank \d\] /, '')]));
    for (const rank of [0, 1, 2, 3, 4, 5]) t.ok(byRank.has(rank), `rank ${rank} finished`);
    t.equal(new Set([0, 1, 2, 3, 4, 5].map((r) => byRank.get(r))).size, 1, 'the majority agree on one log');
    t.match(r.stderr, /rank [67] was lost/);
  });

  t.test('a host whose agent and ranks die: its ranks are reported lost', async (t) => {
    // A separate agent in host 3 on another port, to kill with its ranks.
    const doomed = hosts.dsrun(2, ['agent', '--listen', `${hosts.addresses[2]}:7412`], env);
    await waitForLine(doomed, /listening on/);
    const list = `${hosts.addresses[0]}:3,${hosts.addresses[1]}:3,${hosts.addresses[2]}:7412:2`;
    const job = hosts.dsrun(0, ['-n', '8', '--hosts', list, 'test/fixtures/sequence-paxos-ready.ts', '400'], env);
    const result = collect(job, 90_000);
    await waitForLine(job, /\] ready$/, 60_000, 8);
    process.kill(-doomed.pid!, 'SIGKILL');
    const r = await result;
    t.match(
      r.stderr,
      new RegExp(`host ${hosts.addresses[2].replace(/\./g, '\\.')}:7412 lost \\(agent connection closed\\); its rank\\(s\\) 6, 7 are lost`),
    );
    t.equal(r.code, 0, 'the survivors finish');
    t.match(r.stderr, /rank 6 was lost/);
  });

  t.test('an agent refuses a launcher with the wrong secret; the agent keeps serving', async (t) => {
    const r = await collect(hosts.dsrun(0, ['-n', '2', '--hosts', hostList, 'examples/hello.ts'], { DSMPI_SECRET: 'wrong' }), 30_000);
    t.equal(r.code, 125);
    t.match(r.stderr, /the TLS-PSK handshake failed \(not the same shared secret/);
    const ok = await collect(hosts.dsrun(0, ['-n', '2', '--hosts', hostList, 'examples/hello.ts'], env), 30_000);
    t.equal(ok.code, 0, ok.stderr);
  });

  t.test('an agent refuses a non-loopback address without a secret', async (t) => {
    const r = await collect(hosts.dsrun(1, ['agent', '--listen', `${hosts.addresses[1]}:7413`], { DSMPI_SECRET: '' }), 15_000);
    t.equal(r.code, 2);
    t.match(r.stderr, /refusing to listen .* without a shared secret/);
  });
}
