// readRankEnv: what run() reads from a rank's environment, checked before anything starts.
import t from 'tap';
import { ErrorCode } from '../../runtime/errors.ts';
import { keyFromText, keyToText, ranksKey } from '../../runtime/protocol/keys.ts';
import { readRankEnv, type JobEnv } from '../../runtime/transport/launch-env.ts';

const token = keyToText(ranksKey('secret', 'job-1'));
const dsrunEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  DSMPI_RENDEZVOUS: 'ws://127.0.0.1:4000',
  DSMPI_RANK: '2',
  DSMPI_SIZE: '3',
  DSMPI_JOB: 'job-1',
  DSMPI_TOKEN: token,
  ...extra,
});

t.test('without a launcher only the seed is read (default 1)', async (t) => {
  t.same(await readRankEnv({}), { rendezvous: undefined, seed: 1 });
  t.same(await readRankEnv({ DSMPI_SEED: '42', DSMPI_RANK: 'x' }), { rendezvous: undefined, seed: 42 });
});

t.test("dsrun's variables become the rank's settings", async (t) => {
  const env = (await readRankEnv(
    dsrunEnv({
      DSMPI_SEED: '7',
      DSMPI_BIND: '10.0.0.5',
      DSMPI_MAX_PAYLOAD: '1024',
      DSMPI_RECV_BUFFER: '2048',
      DSMPI_COLL_RADIX: '4',
      DSMPI_FAULTS: JSON.stringify({ drop: 0.5, partitions: [{ from: [0], to: [1], atMs: 0 }] }),
      DSMPI_TRACE: '/tmp/trace-2.jsonl',
      DSMPI_POLL: '1',
      DSMPI_SPAWN: JSON.stringify({ parent: 0, context: 8, group: [2] }),
    }),
  )) as JobEnv;
  t.equal(env.rendezvous, 'ws://127.0.0.1:4000');
  t.match(env, { rank: 2, size: 3, jobId: 'job-1', seed: 7, host: '10.0.0.5', maxPayload: 1024, recvBufferBytes: 2048 });
  t.ok(env.key.equals(keyFromText(token)!), 'the job key');
  t.equal(env.collectiveRadix, 4);
  t.same(env.faults, { drop: 0.5, partitions: [{ from: [0], to: [1], atMs: 0 }] });
  t.equal(env.tracePath, '/tmp/trace-2.jsonl');
  t.equal(env.poll, true);
  t.same(env.spawned, { parent: 0, context: 8, group: [2] });
  t.equal(env.tls, undefined, 'no TLS for a ws:// rendezvous');
});

t.test('the defaults: loopback, no faults, no trace, no polling unless DSMPI_POLL is 1', async (t) => {
  const env = (await readRankEnv(dsrunEnv({ DSMPI_POLL: '0', DSMPI_TRACE: '' }))) as JobEnv;
  t.match(env, { seed: 1, host: '127.0.0.1', poll: false });
  for (const key of ['maxPayload', 'recvBufferBytes', 'collectiveRadix', 'faults', 'tracePath', 'spawned'] as const) {
    t.equal(env[key], undefined, key);
  }
});

t.test('a wss:// rendezvous without certificates means TLS-PSK', async (t) => {
  const env = (await readRankEnv(dsrunEnv({ DSMPI_RENDEZVOUS: 'wss://127.0.0.1:4000' }))) as JobEnv;
  t.same(env.tls, { kind: 'psk' });
});

t.test('a bad rank, size, token or radix is refused with its error code', async (t) => {
  for (const [extra, code, message] of [
    [{ DSMPI_RANK: '3' }, ErrorCode.NoLauncher, /bad DSMPI_RANK\/DSMPI_SIZE/],
    [{ DSMPI_RANK: '-1' }, ErrorCode.NoLauncher, /bad DSMPI_RANK\/DSMPI_SIZE/],
    [{ DSMPI_SIZE: 'three' }, ErrorCode.NoLauncher, /bad DSMPI_RANK\/DSMPI_SIZE/],
    [{ DSMPI_TOKEN: 'short' }, ErrorCode.NoLauncher, /DSMPI_TOKEN is missing or not a key/],
    [{ DSMPI_COLL_RADIX: '1' }, ErrorCode.InvalidArgument, /^run\(\): DSMPI_COLL_RADIX must be an integer >= 2, got '1'$/],
    [{ DSMPI_TLS_CERT: '/nonexistent.pem', DSMPI_RENDEZVOUS: 'wss://127.0.0.1:4000' }, ErrorCode.NoLauncher, /go together/],
  ] as const) {
    await t.rejects(readRankEnv(dsrunEnv(extra)), { code, message }, JSON.stringify(extra));
  }
});

t.test('under mpirun, its rank and size, and a key derived from DSMPI_SECRET', async (t) => {
  const env = (await readRankEnv({
    OMPI_COMM_WORLD_RANK: '1',
    OMPI_COMM_WORLD_SIZE: '2',
    DSMPI_RENDEZVOUS: 'ws://127.0.0.1:4000',
    DSMPI_SECRET: 'secret',
  })) as JobEnv;
  t.match(env, { rank: 1, size: 2, jobId: 'dsmpi', host: '127.0.0.1' });
  t.ok(env.key.equals(ranksKey('secret', 'dsmpi')));
});
