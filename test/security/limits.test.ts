// Connections that never finish their handshake — idle ones, and slowloris ones that dribble bytes —
// are closed by every kind of server (agent, coordinator, rank) after the 5 s deadline; one address
// cannot hold more than its share; a legitimate job meanwhile succeeds. A second `spawn` of a rank
// is refused, and no rank outlives its job, not even one that ignores SIGTERM.
import { connect, type Socket } from 'node:net';
import t, { type Test } from 'tap';
import { startAgent, type Agent } from '../../launcher/agent.ts';
import { Coordinator } from '../../launcher/coordinator.ts';
import type { AgentToLauncher } from '../../runtime/protocol/agent-messages.ts';
import { decodeValue, encodeValue } from '../../runtime/protocol/control-codec.ts';
import { HANDSHAKE_DEADLINE_MS, Party } from '../../runtime/protocol/handshake.ts';
import { agentKey, randomKey } from '../../runtime/protocol/keys.ts';
import { dial } from '../../runtime/protocol/ws-dial.ts';
import { WsTransport } from '../../runtime/transport/ws.ts';
import { dsrun, root } from '../helpers/dsrun.ts';

const SECRET = `limits-test-secret-${process.pid}`;
delete process.env.NODE_OPTIONS;
process.env.DSMPI_SECRET = SECRET;
/** Generous for a loaded machine; the servers' own deadline is HANDSHAKE_DEADLINE_MS. */
const CLOSED_WITHIN_MS = HANDSHAKE_DEADLINE_MS + 7_000;

/** A connection from `from` that sends nothing, or (slowloris) one byte of a request every second. */
function attacker(port: number, from: string, slowloris: boolean): Promise<{ closedAfterMs: number | undefined; sent: number }> {
  return new Promise((resolve) => {
    const opened = Date.now();
    let sent = 0;
    let drip: NodeJS.Timeout | undefined;
    const socket: Socket = connect({ port, host: '127.0.0.1', localAddress: from }, () => {
      if (slowloris) {
        const request = 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n';
        drip = setInterval(() => socket.write(request[sent++ % request.length]), 1000);
      }
    });
    const limit = setTimeout(() => {
      socket.destroy();
      resolve({ closedAfterMs: undefined, sent });
    }, CLOSED_WITHIN_MS);
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(limit);
      clearInterval(drip);
      resolve({ closedAfterMs: Date.now() - opened, sent });
    });
  });
}

async function checkClosed(t: Test, name: string, port: number): Promise<void> {
  const [idle, slow] = await Promise.all([attacker(port, '127.0.0.3', false), attacker(port, '127.0.0.3', true)]);
  t.ok(idle.closedAfterMs !== undefined, `${name}: an idle connection is closed by the server (after ${idle.closedAfterMs} ms)`);
  t.ok(slow.closedAfterMs !== undefined, `${name}: a slowloris connection is closed by the server (after ${slow.closedAfterMs} ms)`);
  t.ok(slow.sent >= 3, `${name}: the slowloris kept sending bytes (${slow.sent}) until then`);
}

t.test('idle and slowloris connections are closed by the coordinator and by a rank', async (t) => {
  const key = randomKey();
  const coordinator = await Coordinator.start(
    { jobId: 'limits', key, size: 2 },
    { hello: () => {}, done: () => {}, abort: () => {}, warn: () => {} },
  );
  const rank = await WsTransport.listen({ rank: 0, size: 2, jobId: 'limits', key, resolve: async () => 'ws://127.0.0.1:9' });
  rank.start({ onFrame: () => {}, onPeerLost: () => {}, onError: () => {} });
  await Promise.all([
    checkClosed(t, 'the coordinator', Number(new URL(coordinator.url).port)),
    checkClosed(t, 'a rank', Number(new URL(rank.address).port)),
  ]);
  await Promise.all([coordinator.close(), rank.close()]);
});

t.test('an agent: 64 idle connections from one address take only its share; a job meanwhile succeeds', async (t) => {
  const logs: string[] = [];
  const agent = await startAgent({ host: '127.0.0.1', port: 0, secret: SECRET, log: (l) => logs.push(l) });
  t.teardown(() => agent.close());
  const port = Number(new URL(agent.url).port);
  // 127.0.0.2 is another address of the loopback interface: another "host" than the launcher's.
  const flood = Array.from({ length: 64 }, () => attacker(port, '127.0.0.2', false));
  const slow = attacker(port, '127.0.0.2', true);
  const job = await dsrun(['-n', '2', '--hosts', `127.0.0.1:${port}:2`, 'examples/hello.ts'], { limitMs: 60_000 });
  t.equal(job.code, 0, `a job runs while the flood holds its connections: ${job.stderr}`);
  t.match(job.stdout, 'sum of ranks = 1');
  const results = await Promise.all([...flood, slow]);
  t.equal(results.filter((r) => r.closedAfterMs === undefined).length, 0, 'every attacking connection was closed by the agent');
  t.ok(
    logs.some((l) => /over 16 connections in their handshake from one address/.test(l)),
    'connections over the per-address share are refused at once',
  );
  t.ok(
    logs.some((l) => /no handshake within 5 s/.test(l)),
    'the held ones are closed at the deadline',
  );
});

/** A launcher that holds the secret and misbehaves: it sends whatever the test says. */
function openJob(agent: Agent, jobId: string): Promise<{ send: (msg: unknown) => void; got: AgentToLauncher[]; close: () => void }> {
  return new Promise((resolve, reject) => {
    dial(
      { url: agent.url, hello: { purpose: 'agent', jobId, from: Party.launcher, to: Party.agent }, key: agentKey(SECRET, jobId) },
      {
        open: (socket) => {
          const got: AgentToLauncher[] = [];
          socket.on('message', (data: Buffer) => got.push(decodeValue(data) as AgentToLauncher));
          resolve({ send: (msg) => socket.send(encodeValue(msg)), got, close: () => socket.close() });
        },
        fail: reject,
      },
    );
  });
}

async function until(what: string, check: () => boolean, limitMs = 20_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`not within ${limitMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

t.test('a second spawn of a rank is refused, a used job id too, and no rank outlives the job', async (t) => {
  const logs: string[] = [];
  const agent = await startAgent({ host: '127.0.0.1', port: 0, secret: SECRET, log: (l) => logs.push(l) });
  const job = await openJob(agent, 'dupspawn');
  job.send({ t: 'program', name: 'stubborn.ts', path: `${root}test/fixtures/stubborn.ts`, args: [] });
  job.send({ t: 'spawn', rank: 0, env: {} });
  job.send({ t: 'spawn', rank: 0, env: {} });
  await until(
    'the rank started and the second spawn was answered',
    () => job.got.some((m) => m.t === 'spawned') && job.got.some((m) => m.t === 'error'),
  );
  t.equal(job.got.filter((m) => m.t === 'spawned').length, 1, 'one process for rank 0');
  t.match(
    job.got.find((m) => m.t === 'error'),
    { message: /rank 0 was started already: a second spawn of it is refused/ },
  );
  const pid = (job.got.find((m) => m.t === 'spawned') as { pid: number }).pid;
  t.ok(alive(pid), 'the rank runs (and ignores SIGTERM)');

  const again = await openJob(agent, 'dupspawn').then(
    () => 'accepted',
    (err: Error) => err.message,
  );
  t.match(again, /closed during the handshake \(4409 this job id was used already\)/, 'a second connection for a live job id is refused');

  job.close();
  await until('the stubborn rank is killed after the launcher left', () => !alive(pid));
  await agent.close();
  t.ok(
    logs.some((l) => /job dupspawn ended/.test(l)),
    'the agent ended the job',
  );
  t.notOk(alive(pid), 'no orphan');
});
