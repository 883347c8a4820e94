// The agent and the handshakes under attack, on 127.0.0.1: garbage, oversized headers and frames,
// a connection flood, replayed and cross-job handshakes. Then a real job still runs through it.
import { connect } from 'node:net';
import t from 'tap';
import { WebSocket } from 'ws';
import { startAgent, type Agent } from '../../launcher/agent.ts';
import { checkHandshake, handshakeHeaders, jobToken } from '../../runtime/transport/auth.ts';
import { encodeValue } from '../../runtime/protocol/control-codec.ts';
import { dsrun } from '../helpers/dsrun.ts';

const SECRET = 'security-test-secret';
let agent: Agent;
let port = 0;
const logs: string[] = [];

t.before(async () => {
  // The agent's ranks inherit its environment: not the test runner's hooks.
  delete process.env.NODE_OPTIONS;
  agent = await startAgent({
    host: '127.0.0.1',
    port: 0,
    secret: SECRET,
    maxFrameBytes: 8 * 1024 * 1024,
    maxConnections: 32,
    log: (l) => logs.push(l),
  });
  port = Number(new URL(agent.url).port);
});
t.teardown(() => agent.close());

function raw(payload: string | Buffer): Promise<string> {
  return new Promise((resolve) => {
    let reply = '';
    const socket = connect(port, '127.0.0.1', () => socket.end(payload));
    socket.on('data', (d) => (reply += String(d)));
    socket.on('close', () => resolve(reply.split('\r\n')[0]));
    socket.on('error', (err) => resolve(err.message));
  });
}

function tryHeaders(headers: Record<string, string>): Promise<{ status: number; socket?: WebSocket }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`, { headers });
    ws.on('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0 }));
    ws.on('open', () => resolve({ status: 101, socket: ws }));
    ws.on('error', () => resolve({ status: -1 }));
  });
}

t.test('garbage and oversized requests from a raw socket are refused', async (t) => {
  t.match(await raw('\x00\xffnot http at all\r\n\r\n'), /^HTTP\/1\.1 400/);
  t.match(await raw(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`), /^HTTP\/1\.1 (400|431)/);
  t.match(
    await raw(
      `GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${Buffer.alloc(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    ),
    /^HTTP\/1\.1 401/,
  );
});

t.test("wrong secret, replayed handshake, another job's handshake, a rank handshake: all refused", async (t) => {
  t.equal((await tryHeaders(handshakeHeaders('agent', 'jobA', jobToken('not-the-secret', 'jobA'), -1))).status, 401, 'wrong secret');
  const good = handshakeHeaders('agent', 'jobA', jobToken(SECRET, 'jobA'), -1);
  const first = await tryHeaders(good);
  t.equal(first.status, 101, 'the genuine handshake is accepted');
  first.socket?.close();
  t.equal((await tryHeaders(good)).status, 401, 'the same handshake replayed is refused');
  t.equal(
    (await tryHeaders({ ...handshakeHeaders('agent', 'jobA', jobToken(SECRET, 'jobA'), -1), 'x-dsmpi-job': 'jobB' })).status,
    401,
    'a handshake of job A presented as job B',
  );
  t.equal(
    (await tryHeaders(handshakeHeaders('rank', 'jobC', jobToken(SECRET, 'jobC'), 0))).status,
    401,
    'a rank handshake is not an agent handshake',
  );
  t.ok(
    logs.some((l) => /replayed handshake/.test(l)),
    'the replay is logged',
  );
});

t.test('checkHandshake: replay, stale nonce, other job', async (t) => {
  const token = jobToken(SECRET, 'j1');
  const h = handshakeHeaders('rank', 'j1', token, 3);
  t.equal(checkHandshake('rank', h, 'j1', token), undefined);
  t.match(checkHandshake('rank', h, 'j1', token), /replayed/);
  t.match(checkHandshake('rank', handshakeHeaders('rank', 'j1', token, 3), 'j2', jobToken(SECRET, 'j2')), /another job/);
  const stale: Record<string, string> = { ...h, 'x-dsmpi-nonce': `${Date.now() - 3_600_000}.abc` };
  stale['x-dsmpi-proof'] = handshakeHeaders('rank', 'j1', token, 3)['x-dsmpi-proof'];
  t.ok(checkHandshake('rank', stale, 'j1', token), 'a stale or forged nonce is refused');
  t.match(checkHandshake('rank', {}, 'j1', token), /missing/);
});

t.test('after authentication: malformed frames are ignored, an oversized frame closes only that connection', async (t) => {
  const { socket } = await tryHeaders(handshakeHeaders('agent', 'jobD', jobToken(SECRET, 'jobD'), -1));
  t.ok(socket);
  socket!.send(Buffer.from([0xc1, 0xff, 0x00]));
  socket!.send('text frame');
  socket!.send(encodeValue({ t: 'nonsense' }));
  const pong = await new Promise<boolean>((resolve) => {
    socket!.once('pong', () => resolve(true));
    socket!.ping();
    setTimeout(() => resolve(false), 2000);
  });
  t.ok(pong, 'the connection survives malformed frames');
  const code = await new Promise<number>((resolve) => {
    socket!.once('close', (c) => resolve(c));
    socket!.send(Buffer.alloc(9 * 1024 * 1024));
  });
  t.equal(code, 1009, 'an oversized frame closes the connection (1009)');
});

t.test('a flood of idle connections does not stop the agent; a job then runs', async (t) => {
  const flood = Array.from({ length: 100 }, () => connect(port, '127.0.0.1'));
  await Promise.all(flood.map((s) => new Promise((resolve) => s.once('connect', resolve).once('error', resolve))));
  await Promise.all(flood.map((s) => new Promise((resolve) => s.once('close', resolve).destroy())));
  process.env.DSMPI_SECRET = SECRET;
  const r = await dsrun(['-n', '3', '--hosts', `127.0.0.1:${port}:3`, 'examples/hello.ts']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, '[rank 2] hello from rank 2 of 3', r.stderr + JSON.stringify(logs));
  const wrong = await dsrun(['-n', '1', '--hosts', `127.0.0.1:${port}:1`, '--secret-file', '/dev/null', 'examples/hello.ts']);
  t.equal(wrong.code, 2, 'an empty secret file is a usage error');
});
