// A LAN attacker records a legitimate job's bytes to an agent and replays them verbatim: to the
// same agent, to another agent that shares the secret, and to the first agent after a restart.
// Nothing runs (the program appends a line to a marker file each time a rank runs), and nothing
// secret is in what was recorded. On 127.0.0.1, where links are plain ws:// — the weakest case:
// with TLS-PSK (the default across machines) the attacker would not even see the handshake.
import { Buffer } from 'node:buffer';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startAgent, type Agent } from '../../launcher/agent.ts';
import { HandshakeHeader } from '../../runtime/protocol/handshake.ts';
import { agentKey, keyToText, ranksKey, tlsKey } from '../../runtime/protocol/keys.ts';
import { decodeValue } from '../../runtime/protocol/control-codec.ts';
import { dsrun } from '../helpers/dsrun.ts';
import { framePayloads, recordingProxy, replay, type RecordingProxy } from '../helpers/recording-proxy.ts';

const SECRET = `replay-test-secret-${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'dsmpi-replay-'));
const marker = join(dir, 'marker');
const logs: string[] = [];
// The agents' ranks inherit this process's environment: not the test runner's hooks.
delete process.env.NODE_OPTIONS;
process.env.DSMPI_SECRET = SECRET;
process.env.DSMPI_TEST_MARKER = marker;

const start = (): Promise<Agent> => startAgent({ host: '127.0.0.1', port: 0, secret: SECRET, log: (l) => logs.push(l) });
const portOf = (agent: Agent): number => Number(new URL(agent.url).port);
const runs = (): number => (existsSync(marker) ? readFileSync(marker, 'utf8').split('\n').filter(Boolean).length : 0);

let agentA: Agent;
let agentB: Agent;
let proxy: RecordingProxy;
t.before(async () => {
  [agentA, agentB] = await Promise.all([start(), start()]);
  proxy = await recordingProxy(portOf(agentA));
});
t.teardown(async () => {
  await proxy.close();
  await Promise.all([agentA.close(), agentB.close()]);
  rmSync(dir, { recursive: true, force: true });
});

t.test('a recorded job replays nowhere, and its bytes hold no secret', async (t) => {
  const job = await dsrun(['-n', '2', '--hosts', `127.0.0.1:${proxy.port}:2`, '-x', 'DSMPI_TEST_MARKER', 'test/fixtures/marker.ts'], {
    limitMs: 60_000,
  });
  t.equal(job.code, 0, job.stderr);
  t.equal(runs(), 2, 'the legitimate job ran its two ranks');
  t.equal(proxy.recordings.length, 1, 'one agent connection recorded');
  const { toServer, toClient } = proxy.recordings[0];
  const sent = Buffer.concat(toServer);
  const frames = Buffer.concat([...framePayloads(sent), ...framePayloads(Buffer.concat(toClient))]);
  t.ok(frames.includes('program') && frames.includes('spawn'), 'the recording holds the program and spawn frames');

  const jobId = /x-dsmpi-job: ([A-Za-z0-9_-]+)/i.exec(sent.toString('latin1'))![1];
  t.match(sent.toString('latin1'), new RegExp(`${HandshakeHeader.nonce}: [0-9a-f]{64}`, 'i'), 'the handshake carries a nonce, no token');

  // Nothing secret on the wire, in any encoding: the secret, the job's keys, the ranks' token.
  const wire = Buffer.concat([sent, ...toClient, frames]);
  const secrets: Array<[string, Buffer]> = [
    ['the secret', Buffer.from(SECRET)],
    ['the agent key', agentKey(SECRET, jobId)],
    ['the ranks key (DSMPI_TOKEN)', ranksKey(SECRET, jobId)],
    ['the agent TLS key', tlsKey(agentKey(SECRET, jobId), 'agent')],
  ];
  for (const [name, value] of secrets) {
    for (const form of [value, Buffer.from(value.toString('hex')), Buffer.from(value.toString('base64')), Buffer.from(keyToText(value))]) {
      t.notOk(wire.includes(form), `${name} is not in the recorded bytes (${form.length} bytes form)`);
    }
  }
  // After the proof (the first frame): MessagePack frames, then a close frame.
  const spawns = framePayloads(sent)
    .slice(1)
    .flatMap((p) => {
      try {
        return [decodeValue(p) as { t: string; env?: Record<string, string> }];
      } catch {
        return [];
      }
    })
    .filter((m) => m?.t === 'spawn');
  t.equal(spawns.length, 2, 'two spawn frames');
  for (const m of spawns) {
    t.notOk('DSMPI_TOKEN' in m.env! || 'DSMPI_SECRET' in m.env!, `spawn of rank: no token, no secret (${Object.keys(m.env!).join(' ')})`);
  }

  // The replays: the same agent, another agent with the same secret, the first after a restart.
  const before = runs();
  const refusedBefore = logs.filter((l) => /wrong proof/.test(l)).length;
  const toSame = await replay(portOf(agentA), toServer);
  const toOther = await replay(portOf(agentB), toServer);
  await agentA.close();
  agentA = await start();
  const toRestarted = await replay(portOf(agentA), toServer);
  for (const [name, result] of [
    ['the same agent', toSame],
    ['another agent sharing the secret', toOther],
    ['the first agent, restarted', toRestarted],
  ] as const) {
    t.ok(result.closedByServer, `${name} closes the replayed connection`);
    t.match(result.answer.toString('latin1'), /^HTTP\/1\.1 101/, `${name} answers the upgrade with a fresh challenge`);
  }
  // A program would have been written and started within the time the replays took; nothing was.
  t.equal(runs(), before, 'no replay ran anything');
  t.equal(logs.filter((l) => /wrong proof/.test(l)).length - refusedBefore, 3, 'each replay is refused for its proof, and logged');
});
