// --trace and --summary across hosts: three "hosts" as network namespaces made by the test, a
// `dsrun agent` in each; the ranks' traces come back over the agent links and are merged as on one
// machine. Skipped (with the reason) where namespaces cannot be created.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parseTrace, summarizeTrace, type TraceEvent } from 'dsmpi';
import { clockAnchorText } from '../../runtime/protocol/epoch-clock.ts';
import { dsrun, root } from '../helpers/dsrun.ts';
import { collect, createHosts, netnsUnavailable, waitForLine, type Hosts } from '../helpers/netns.ts';

/** Problems with causality and per-rank order in a merged trace (empty: none). */
function causalityProblems(events: TraceEvent[]): string[] {
  const problems: string[] = [];
  const sends = new Map<string, { index: number; t: number }>();
  const lastT = new Map<number, number>();
  events.forEach((e, index) => {
    if (typeof e.rank === 'number') {
      if (e.t < (lastT.get(e.rank) ?? -Infinity)) problems.push(`line ${index + 1}: rank ${e.rank}'s time goes backwards`);
      lastT.set(e.rank, e.t);
    }
    if (e.ev === 'send') sends.set(`${e.rank}:${e.msg}`, { index, t: e.t });
    if (e.ev === 'deliver') {
      const send = sends.get(`${String(e.from)}:${e.msg}`);
      if (!send)
        problems.push(`line ${index + 1}: rank ${e.rank} delivers message ${e.msg} of rank ${String(e.from)} with no send before it`);
      else if (send.t > e.t) problems.push(`line ${index + 1}: delivered at ${e.t}, sent at ${send.t}`);
    }
  });
  return problems;
}

const why = netnsUnavailable();
if (why) {
  t.plan(0, `skipped: ${why}`);
} else {
  const SECRET = `test-secret-${process.pid}`;
  const env = { DSMPI_SECRET: SECRET };
  const dir = mkdtempSync(join(tmpdir(), 'dsmpi-multi-host-trace-'));
  let hosts: Hosts;
  let hostList = '';

  t.before(async () => {
    hosts = createHosts(3);
    const agents = hosts.addresses.map((address, i) => hosts.dsrun(i, ['agent', '--listen', `${address}:7411`], env));
    await Promise.all(agents.map((a) => waitForLine(a, /listening on wss:\/\//)));
    hostList = hosts.addresses.map((a) => `${a}:2`).join(',');
  });
  t.teardown(() => {
    hosts?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  t.test("a ring across three hosts: one merged trace with every host's sends and deliveries, a summary, a view", async (t) => {
    const tracePath = join(dir, 'ring.jsonl');
    const laps = 3;
    const r = await collect(
      hosts.dsrun(0, ['-n', '6', '--hosts', hostList, '--trace', tracePath, '--summary', 'examples/ring.ts', String(laps)], env),
      60_000,
    );
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, `lap ${laps}: token = ${6 * laps}`);
    const events = parseTrace(readFileSync(tracePath, 'utf8'));
    t.same(causalityProblems(events), [], "every delivery after its send; each rank's times in order");
    const tokens = events.filter((e) => e.ctx === 0 && e.tag === 1);
    for (let rank = 0; rank < 6; rank++) {
      const sent = tokens.filter((e) => e.ev === 'send' && e.rank === rank);
      const got = tokens.filter((e) => e.ev === 'deliver' && e.rank === rank);
      t.same(
        sent.map((e) => e.to),
        new Array(laps).fill((rank + 1) % 6),
        `rank ${rank} (host ${Math.floor(rank / 2) + 1}) sends the token on ${laps} times`,
      );
      t.same(
        got.map((e) => e.from),
        new Array(laps).fill((rank + 5) % 6),
        `rank ${rank} gets it ${laps} times`,
      );
      t.ok(
        events.some((e) => e.ev === 'exit' && e.rank === rank),
        `rank ${rank}'s exit is traced`,
      );
    }
    // The token's path is one causal chain: its sends, in trace order, go round the ring.
    const path = tokens.filter((e) => e.ev === 'send').map((e) => e.rank);
    t.same(
      path,
      Array.from({ length: 6 * laps }, (_, i) => i % 6),
      'the token goes 0 → 1 → … → 5 → 0 in trace order',
    );
    t.notOk(
      events.some((e) => e.ev === 'untraced'),
      'no rank is missing',
    );

    const s = summarizeTrace(events, 6);
    t.match(r.stderr, `dsrun: summary: ${s.total.messages} messages, ${s.total.bytes} bytes sent; ${s.delivered} delivered, 0 dropped`);
    for (let rank = 0; rank < 6; rank++) {
      const row = s.perRank[rank];
      t.match(
        r.stderr,
        new RegExp(`\\n\\s+${rank}\\s+${row.sent}\\s+${row.bytesSent}\\s+${row.received}\\s+${row.bytesReceived}\\n`),
        `rank ${rank}'s row`,
      );
    }

    const text = await dsrun(['view', tracePath, '--text']);
    t.equal(text.code, 0, text.stderr);
    t.equal(text.stdout.trimEnd().split('\n').length, events.length + 1, 'a line per event');
    t.match(text.stdout, /rank 5 sends tag 1 to rank 0/);
    const html = await dsrun(['view', tracePath, '-o', join(dir, 'ring.html')]);
    t.equal(html.code, 0, html.stderr);
    t.match(readFileSync(join(dir, 'ring.html'), 'utf8'), /6 ranks · \d+ messages/);
  });

  t.test("each host's ranks read their agent's time line, not the launcher's", async (t) => {
    // A valid anchor for the launcher, made recognisable: 0.25 ms off the one this machine measures.
    const launcherAnchor = String(Number(clockAnchorText()) + 0.25);
    const job = hosts.dsrun(0, ['-n', '6', '--hosts', hostList, 'test/fixtures/rank-clock.ts'], {
      ...env,
      DSMPI_CLOCK_ANCHOR: launcherAnchor,
    });
    const r = await collect(job, 60_000);
    t.equal(r.code, 0, r.stderr);
    t.notMatch(r.stderr, /DSMPI_CLOCK_ANCHOR/, 'no anchor refused');
    const anchors = new Map<number, string>();
    for (const line of r.stdout.split('\n').filter((l) => l.includes('{'))) {
      const x = JSON.parse(line.slice(line.indexOf('{'))) as { rank: number; anchor: string };
      anchors.set(x.rank, x.anchor);
    }
    t.equal(anchors.size, 6, 'every rank reports');
    for (let host = 0; host < 3; host++) {
      const [a, b] = [anchors.get(2 * host), anchors.get(2 * host + 1)];
      t.equal(a, b, `host ${host + 1}'s two ranks share one anchor`);
      t.ok(
        Number.isFinite(Number(a)) && a !== launcherAnchor,
        `host ${host + 1}: its agent's anchor ${a}, not the launcher's ${launcherAnchor}`,
      );
    }
  });

  t.test('a host lost mid-job: its ranks are marked untraced, the rest of the trace is whole', async (t) => {
    // A separate agent in host 3 on another port, to kill with its ranks.
    const doomed = hosts.dsrun(2, ['agent', '--listen', `${hosts.addresses[2]}:7412`], env);
    await waitForLine(doomed, /listening on/);
    const tracePath = join(dir, 'lost.jsonl');
    const list = `${hosts.addresses[0]}:3,${hosts.addresses[1]}:3,${hosts.addresses[2]}:7412:2`;
    const job = hosts.dsrun(
      0,
      ['-n', '8', '--hosts', list, '--trace', tracePath, '--summary', 'test/fixtures/sequence-paxos-ready.ts', '400'],
      env,
    );
    const result = collect(job, 90_000);
    await waitForLine(job, /\] ready$/, 60_000, 8);
    process.kill(-doomed.pid!, 'SIGKILL');
    const r = await result;
    // The killed agent could not remove its job directory (`ip netns exec` runs it under its own pid).
    const cache = join(root, 'node_modules', '.cache');
    for (const name of readdirSync(cache))
      if (name.startsWith(`dsmpi-agent-${doomed.pid}-`)) rmSync(join(cache, name), { recursive: true, force: true });
    t.equal(r.code, 0, `the survivors finish ${r.stderr}`);
    t.match(r.stderr, /dsrun: summary: /);
    const events = parseTrace(readFileSync(tracePath, 'utf8'));
    const hostLost = new RegExp(`host ${hosts.addresses[2].replace(/\./g, '\\.')}:7412 lost \\(agent connection closed\\)`);
    for (const rank of [6, 7]) {
      const untraced = events.filter((e) => e.ev === 'untraced' && e.rank === rank);
      t.equal(untraced.length, 1, `rank ${rank} is marked untraced`);
      t.match(untraced[0]?.reason, hostLost);
      t.match(events.find((e) => e.ev === 'crash' && e.rank === rank)?.reason, hostLost, `rank ${rank}'s crash names its host`);
      t.notOk(
        events.some((e) => e.rank === rank && e.ev !== 'untraced' && e.ev !== 'crash'),
        `no event of rank ${rank} itself`,
      );
    }
    for (let rank = 0; rank < 6; rank++) {
      t.ok(
        events.some((e) => e.ev === 'send' && e.rank === rank),
        `rank ${rank} has sends`,
      );
      t.ok(
        events.some((e) => e.ev === 'deliver' && e.rank === rank),
        `rank ${rank} has deliveries`,
      );
      t.ok(
        events.some((e) => e.ev === 'detect' && e.rank === rank && e.from === 6),
        `rank ${rank} detects rank 6's loss`,
      );
    }
    for (const lost of [6, 7])
      t.ok(
        events.some((e) => e.ev === 'deliver' && e.from === lost),
        `messages of rank ${lost} are seen where they arrived`,
      );
    const problems = causalityProblems(events.filter((e) => !(e.ev === 'deliver' && typeof e.from === 'number' && e.from >= 6)));
    t.same(problems, [], 'every delivery from a traced rank after its send');
    const text = await dsrun(['view', tracePath, '--text']);
    t.equal(text.code, 0, text.stderr);
    t.match(text.stdout, hostLost);
  });
}
