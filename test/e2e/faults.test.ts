import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parseTrace, summarizeTrace, type TraceEvent } from '../../runtime/index.ts';
import { dsrun } from '../helpers/dsrun.ts';

const dir = t.testdir({});
const tracePath = (name: string): string => join(dir, `${name}.jsonl`);
const readTrace = (name: string): TraceEvent[] => parseTrace(readFileSync(tracePath(name), 'utf8'));
// The launcher's and ranks' own events: not messages, nor the trace's opening `run` line.
const control = (events: TraceEvent[]): TraceEvent[] => events.filter((e) => e.ev !== 'send' && e.ev !== 'deliver' && e.ev !== 'run');

t.test('survive mode: a --kill of a minority is survived; shrink gives the survivors a communicator', async (t) => {
  const r = await dsrun(['-n', '4', '--kill', '3@1.5s', '--trace', tracePath('kill'), 'test/fixtures/survivor.ts']);
  t.equal(r.code, 0, r.stderr);
  for (let i = 0; i < 3; i++) {
    t.match(r.stdout, `[rank ${i}] lost rank 3; recv from it: DS_ERR_PEER_LOST; failed() = [3]\n`);
    t.match(r.stdout, `[rank ${i}] allreduce on the world: DS_ERR_PEER_LOST\n`);
    t.match(r.stdout, `[rank ${i}] shrunk: rank ${i} of 3, sum of old ranks 3\n`);
  }
  t.match(r.stderr, /rank 3 was lost \(killed by SIGKILL \(--kill 3@1500ms\)\); the survivors finished/);
  const events = readTrace('kill');
  const crash = events.find((e) => e.ev === 'crash');
  t.match(crash, { ev: 'crash', rank: 3, reason: 'kill' });
  t.ok(crash!.t >= 1500, `killed at ${crash!.t} ms, not before 1.5 s`);
  const detects = events.filter((e) => e.ev === 'detect');
  t.same(detects.map((e) => e.rank).sort(), [0, 1, 2], 'each survivor detects the death');
  t.ok(detects.every((e) => e.from === 3 && e.t >= crash!.t));
  t.equal(events.filter((e) => e.ev === 'exit').length, 3);
});

t.test("by default a --kill aborts the job with the killed rank's code", async (t) => {
  const r = await dsrun(['-n', '3', '--kill', '2@1s', 'test/fixtures/survivor.ts', 'no-survive']);
  t.equal(r.code, 137);
  t.match(r.stderr, /rank 2 failed \(exit code 137\): killed by SIGKILL \(--kill 2@1000ms\)/);
  t.notMatch(r.stdout, /shrunk/);
});

t.test("heartbeats: a --pause'd rank is declared lost and the survivors go on", async (t) => {
  const r = await dsrun([
    '-n',
    '3',
    '--pause',
    '2@0.8s+30s',
    '--heartbeat-ms',
    '500',
    '--heartbeat-misses',
    '8',
    '--trace',
    tracePath('hung'),
    'test/fixtures/survivor.ts',
  ]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /rank 2: no heartbeat for \d\.\d s \(stopped, or busy in a synchronous loop\); declared lost/);
  t.match(r.stdout, '[rank 0] shrunk: rank 0 of 2, sum of old ranks 1\n');
  const events = control(readTrace('hung'));
  t.match(events[0], { ev: 'pause', rank: 2 });
  t.ok(events[0].t >= 800, `paused at ${events[0].t} ms, not before 0.8 s`);
  t.ok(Math.abs(events[0].untilMs! - events[0].t - 30_000) < 2, 'for 30 s');
  const crash = events.find((e) => e.ev === 'crash')!;
  t.match(crash, { rank: 2, reason: /^declared lost: no heartbeat/ });
  // Heartbeats generous enough for a loaded machine: not before 8 of 500 ms can have been missed
  // (the last may have come a period before the pause), and before the pause would end.
  t.ok(crash.t - events[0].t >= 3500, `declared lost ${crash.t - events[0].t} ms after the pause`);
  t.ok(crash.t < events[0].untilMs!, 'while the rank was still paused');
});

t.test('pause, resume and kill all appear in the trace, in order', async (t) => {
  const r = await dsrun([
    '-n',
    '3',
    '--pause',
    '2@0.8s+0.3s',
    '--kill',
    '2@1.5s',
    '--trace',
    tracePath('pause'),
    'test/fixtures/survivor.ts',
  ]);
  t.equal(r.code, 0, r.stderr);
  const events = control(readTrace('pause')).filter((e) => e.rank === 2);
  t.same(
    events.map((e) => e.ev),
    ['pause', 'resume', 'crash'],
  );
  t.ok(events[1].t - events[0].t >= 290, 'resumed after the pause');
});

t.test('--drop: drops are traced, counts add up, and the same seed drops the same messages', async (t) => {
  const drops: string[][] = [];
  for (const run of ['drop1', 'drop2']) {
    const r = await dsrun([
      '-n',
      '3',
      '--drop',
      '0.3',
      '--seed',
      '42',
      '--trace',
      tracePath(run),
      'test/fixtures/traffic.ts',
      '20',
      'no-recv',
    ]);
    t.equal(r.code, 0, r.stderr);
    const events = readTrace(run);
    const s = summarizeTrace(events, 3);
    t.equal(s.total.messages, 120, 'every send is traced');
    t.ok(s.dropped > 10 && s.dropped < 70, `${s.dropped} dropped of 120 at p = 0.3`);
    t.ok(events.filter((e) => e.ev === 'drop').every((e) => e.reason === 'random'));
    t.ok(s.delivered <= 120 - s.dropped);
    const dropped = new Set(events.filter((e) => e.ev === 'drop').map((e) => `${e.rank}:${e.msg}`));
    t.ok(
      events.filter((e) => e.ev === 'deliver').every((e) => !dropped.has(`${e.from}:${e.msg}`)),
      'no dropped message is delivered',
    );
    drops.push([...dropped].sort());
  }
  t.same(drops[0], drops[1], 'the same seed drops the same messages');
});

t.test('--delay: messages are held back, per-pair order is kept', async (t) => {
  const r = await dsrun(['-n', '3', '--delay', '20ms..40ms', '--trace', tracePath('delay'), 'test/fixtures/traffic.ts', '10']);
  t.equal(r.code, 0, r.stderr);
  for (let i = 0; i < 3; i++) t.match(r.stdout, `[rank ${i}] received 20 in order\n`);
  const events = readTrace('delay');
  const sends = new Map(events.filter((e) => e.ev === 'send').map((e) => [`${e.rank}:${e.msg}`, e]));
  t.equal(sends.size, 60);
  t.ok(
    [...sends.values()].every((e) => e.delayMs! >= 20 && e.delayMs! <= 40),
    'delays within 20..40 ms',
  );
  const delivers = events.filter((e) => e.ev === 'deliver');
  t.equal(delivers.length, 60);
  t.ok(
    delivers.every((e) => e.t - sends.get(`${e.from}:${e.msg}`)!.t >= 19),
    'each delivery at least 20 ms after its send',
  );
  t.ok(
    delivers.every((e) => e.lamport! > sends.get(`${e.from}:${e.msg}`)!.lamport!),
    'Lamport time grows along each message',
  );
});

t.test('a one-way partition delivers one way only', async (t) => {
  const r = await dsrun(['-n', '2', '--partition', '0>1', '--trace', tracePath('oneway'), 'test/fixtures/oneway.ts', '5']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, '[rank 0] received 5 from rank 1\n');
  const events = readTrace('oneway');
  t.match(
    events.find((e) => e.ev === 'partition'),
    { t: 0, ev: 'partition', from: [0], to: [1], oneWay: true },
  );
  t.equal(events.filter((e) => e.ev === 'deliver' && e.rank === 1).length, 0, 'rank 1 gets nothing');
  t.equal(events.filter((e) => e.ev === 'drop' && e.rank === 0 && e.to === 1 && e.reason === 'partition').length, 5);
  t.equal(events.filter((e) => e.ev === 'deliver' && e.rank === 0 && e.from === 1).length, 5);
});

t.test("--summary: counts match the program's known traffic and the trace", async (t) => {
  const r = await dsrun(['-n', '4', '--summary', '--trace', tracePath('summary'), 'test/fixtures/traffic.ts', '5']);
  t.equal(r.code, 0, r.stderr);
  const s = summarizeTrace(readTrace('summary'), 4);
  t.same(s.perTag['7'], { messages: 60, bytes: 600 }, '4 ranks x 3 peers x 5 messages of 10 bytes');
  t.equal(s.delivered, 60);
  t.match(r.stderr, /dsrun: summary: 60 messages, 600 bytes sent; 60 delivered, 0 dropped/);
  for (let i = 0; i < 4; i++) t.match(r.stderr, new RegExp(`\\n\\s+${i}\\s+15\\s+150\\s+15\\s+150\\n`));
  t.match(r.stderr, /\n\s+7\s+60\s+600\n/);
});

t.test('bad fault specs: one-line error, exit 2', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--kill', '2@soon'], /'soon' is not a time/],
    [['--kill', '9@1s'], /--kill: rank 9 does not exist; the job has ranks 0\.\.2/],
    [['--pause', '1@1s'], /RANK@TIME\+DURATION/],
    [['--drop', '1.5'], /'1\.5' is not a probability/],
    [['--delay', '50ms..5ms'], /maximum 5ms is below its minimum 50ms/],
    [['--partition', '0,1|1,2@1s..2s'], /share a rank/],
    [['--partition', '0,1-2@1s'], /GROUP\|GROUP or GROUP>GROUP/],
    [['--partition', '0|1@3s..2s'], /ends \(2s\) before it starts \(3s\)/],
  ];
  for (const [flags, message] of cases) {
    const r = await dsrun(['-n', '3', ...flags, 'examples/hello.ts']);
    t.equal(r.code, 2, flags.join(' '));
    t.match(r.stderr, message);
    t.equal(r.stderr.split('\n').filter((l) => l.startsWith('error')).length, 1, 'one error line');
    t.equal(r.stdout, '');
  }
  const help = await dsrun(['--help']);
  t.match(help.stdout, /--partition A>B\[@T1\[\.\.T2\]\]/);
  t.match(help.stdout, /--heartbeat-ms <time>/);
});
