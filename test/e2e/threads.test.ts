// dsrun --threads: the ranks are worker threads of dsrun linked by MessagePorts (docs/threads.md).
// The job behaves as with processes: output, exit codes, abort, --timeout, --kill, faults, traces.
import t from 'tap';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTrace } from '../../runtime/index.ts';
import { checkCollectivesOutput } from '../helpers/collectives-output.ts';
import { barrierWithVictim } from '../helpers/barrier-victim.ts';
import { dsrun } from '../helpers/dsrun.ts';

t.test('paxos as threads: every learner decides the same value', async (t) => {
  const r = await dsrun(['-n', '5', '--threads', 'examples/paxos.ts']);
  t.equal(r.code, 0, r.stderr);
  const decided = [...r.stdout.matchAll(/^\[rank (\d)\] decided (\d+)$/gm)];
  t.equal(decided.length, 5, 'five ranks decide');
  t.equal(new Set(decided.map((m) => m[2])).size, 1, 'on one value');
});

t.test('every collective, the counter and split as threads, on the latency-optimal algorithms and on a k-nomial tree', async (t) => {
  for (const extra of [[], ['-x', 'DSMPI_COLL_RADIX=3']]) {
    const r = await dsrun(['-n', '5', '--threads', ...extra, '--quiet', '--timeout', '60', 'examples/collectives.ts'], { limitMs: 90_000 });
    t.equal(r.code, 0, r.stderr);
    checkCollectivesOutput(t, r.stdout, 5);
  }
});

t.test(
  'barriers, blocking and several in flight: nobody leaves before everyone entered, in shared memory as threads and as messages',
  async (t) => {
    // As threads without faults, world barriers count arrivals in shared memory; --delay keeps them messages.
    for (const mode of [['--threads'], ['--threads', '--delay', '0ms..1ms'], []]) {
      // Generous bounds: under a load of 24, a run with --timeout 30 did not end within 40 s.
      const r = await dsrun(['-n', '5', ...mode, '--timeout', '90', 'test/fixtures/barriers.ts'], { limitMs: 150_000 });
      t.equal(r.code, 0, `${mode.join(' ') || 'processes'}: ${r.stderr}`);
      t.equal(r.stdout.match(/^\[rank \d\] barriers ok 150$/gm)?.length, 5, 'every rank passed 150 barriers');
    }
  },
);

t.test('a thread killed while the others wait in a world barrier: the barrier fails with DS_ERR_PEER_LOST', async (t) => {
  await barrierWithVictim(t, 4, ['--threads'], 40_000);
});

t.test('--timeout reports how many ranks a shared-memory barrier still waits for', async (t) => {
  // Generous: on a loaded machine the threads must have reached their waits before the timeout.
  const r = await dsrun(['-n', '3', '--threads', '--timeout', '15', 'test/fixtures/barriers.ts', 'absent'], { limitMs: 60_000 });
  t.equal(r.code, 124);
  t.match(r.stderr, /rank 0: recv\(source=1, tag=99\) for \d+\.\d s/);
  for (const rank of [1, 2])
    t.match(r.stderr, new RegExp(`rank ${rank}: barrier\\(\\): waiting for 1 of 3 ranks to arrive for \\d+\\.\\d s`));
});

t.test("an uncaught error in a thread aborts the job with that rank's message and the TypeScript stack", async (t) => {
  const r = await dsrun(['-n', '3', '--threads', 'test/fixtures/throws.ts']);
  t.equal(r.code, 1);
  t.match(r.stderr, /dsrun: rank 1 failed \(exit code 1\): Error: boom on purpose/);
  t.match(r.stderr, /throws\.ts:\d+/);
});

t.test('a thread that throws while its program loads: the error on its prefixed stderr, exit code 1', async (t) => {
  const r = await dsrun(['-n', '3', '--threads', 'test/fixtures/throws-at-load.ts']);
  t.equal(r.code, 1);
  t.match(r.stderr, /^\[rank 1\] Error: broken at load time$/m);
  t.match(r.stderr, /^\[rank 1\] .*throws-at-load\.ts:\d+/m, 'the stack points into the TypeScript source');
  t.match(r.stderr, /dsrun: rank 1 failed \(exit code 1\)/);
});

t.test('abort(code) in a thread ends the job with that code', async (t) => {
  const r = await dsrun(['-n', '3', '--threads', 'test/fixtures/aborts.ts']);
  t.equal(r.code, 3);
  t.match(r.stderr, /rank 2 failed \(exit code 3\): rank 2: giving up on purpose/);
});

t.test('--timeout reports what each thread waits on, then exits 124', async (t) => {
  // 10 s, not less: the report is taken once, and every rank must have started and reached its recv
  // by then, on a loaded machine too.
  const r = await dsrun(['-n', '3', '--threads', '--timeout', '10', 'test/fixtures/stuck.ts']);
  t.equal(r.code, 124);
  for (let i = 0; i < 3; i++) t.match(r.stderr, new RegExp(`rank ${i}: recv\\(source=${(i + 1) % 3}, tag=5\\) for \\d+\\.\\d s`));
});

t.test('--kill ends a thread: the survivors see it lost and shrink, and the trace shows it', async (t) => {
  const trace = join(tmpdir(), `dsmpi-threads-kill-${process.pid}.jsonl`);
  t.teardown(() => rmSync(trace, { force: true }));
  const r = await dsrun(['-n', '4', '--threads', '--kill', '3@1s', '--trace', trace, 'test/fixtures/survivor.ts']);
  t.equal(r.code, 0, r.stderr);
  for (let i = 0; i < 3; i++) {
    t.match(r.stdout, `[rank ${i}] lost rank 3; recv from it: DS_ERR_PEER_LOST; failed() = [3]\n`);
    t.match(r.stdout, `[rank ${i}] shrunk: rank ${i} of 3, sum of old ranks 3\n`);
  }
  t.match(r.stderr, /rank 3 was lost \(killed by SIGKILL \(--kill 3@1000ms\)\); the survivors finished/);
  const events = readFileSync(trace, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { ev: string; rank?: number });
  t.ok(
    events.some((e) => e.ev === 'crash' && e.rank === 3),
    'the kill is in the trace',
  );
  t.ok(
    events.some((e) => e.ev === 'send'),
    'and the messages',
  );
});

t.test('heartbeats reach threads over their control ports: a thread busy in a synchronous loop is declared lost', async (t) => {
  const r = await dsrun(['-n', '3', '--threads', '--heartbeat-ms', '500', '--heartbeat-misses', '8', 'test/fixtures/survivor.ts', 'spin'], {
    limitMs: 90_000,
  });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /rank 2: no heartbeat for \d+\.\d s \(stopped, or busy in a synchronous loop\); declared lost/);
  t.match(r.stdout, '[rank 0] shrunk: rank 0 of 2, sum of old ranks 1\n');
  t.notMatch(r.stderr, /rank [01]: no heartbeat/, 'the ranks that wait in their event loops answer');
});

t.test("by default a --kill of a thread aborts the job with the killed rank's code", async (t) => {
  const r = await dsrun(['-n', '3', '--threads', '--kill', '2@1s', 'test/fixtures/survivor.ts', 'no-survive']);
  t.equal(r.code, 137);
  t.match(r.stderr, /rank 2 failed \(exit code 137\): killed by SIGKILL \(--kill 2@1000ms\)/);
});

t.test('--drop and --delay apply between threads as between processes: the same seed drops the same messages', async (t) => {
  const dropped: string[][] = [];
  for (const mode of [['--threads'], []]) {
    const trace = join(tmpdir(), `dsmpi-threads-drop-${process.pid}-${mode.length}.jsonl`);
    t.teardown(() => rmSync(trace, { force: true }));
    const r = await dsrun([
      '-n',
      '3',
      ...mode,
      '--drop',
      '0.3',
      '--seed',
      '42',
      '--trace',
      trace,
      'test/fixtures/traffic.ts',
      '20',
      'no-recv',
    ]);
    t.equal(r.code, 0, r.stderr);
    const events = parseTrace(readFileSync(trace, 'utf8'));
    t.equal(events.filter((e) => e.ev === 'send').length, 120, 'every send is traced');
    dropped.push(
      events
        .filter((e) => e.ev === 'drop')
        .map((e) => `${e.rank}:${e.msg}`)
        .sort(),
    );
  }
  t.ok(dropped[0].length > 10 && dropped[0].length < 70, `${dropped[0].length} dropped of 120 at p = 0.3`);
  t.same(dropped[0], dropped[1], 'threads drop exactly the messages processes drop');
  const r = await dsrun(['-n', '3', '--threads', '--delay', '5ms..20ms', '--quiet', 'test/fixtures/traffic.ts', '10']);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout.split('\n').filter((l) => l === 'received 20 in order').length, 3, 'delayed messages keep their per-pair order');
});

t.test('spawn() is refused with a clear error when ranks are threads', async (t) => {
  const r = await dsrun(['-n', '2', '--threads', 'test/fixtures/spawn-family.ts']);
  t.not(r.code, 0);
  t.match(r.stderr, /spawn\(\): not available when ranks are threads \(dsrun --threads\)/);
});

t.test('--threads with --pause, --hosts or --no-bundle is a usage error', async (t) => {
  for (const extra of [['--pause', '0@1s+1s'], ['--hosts', '127.0.0.1:1'], ['--no-bundle']]) {
    const r = await dsrun(['-n', '2', '--threads', ...extra, 'examples/hello.ts']);
    t.equal(r.code, 2, extra.join(' '));
    t.match(r.stderr, `--threads cannot be used with ${extra[0]}`);
  }
});
