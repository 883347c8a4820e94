// dsrun --threads --poll: rank threads exchange frames through rings in shared memory and spin while
// a receive waits (docs/threads.md#polling). Jobs give what they give without polling, and a rank
// that waits long stops spinning.
import { availableParallelism } from 'node:os';
import t from 'tap';
import { checkCollectivesOutput } from '../helpers/collectives-output.ts';
import { barrierWithVictim } from '../helpers/barrier-victim.ts';
import { dsrun } from '../helpers/dsrun.ts';

// Several jobs one after another, on a machine that may be loaded.
t.setTimeout(300_000);

t.test('every collective, the counter and split, as polling threads', async (t) => {
  const r = await dsrun(['-n', '3', '--threads', '--poll', '--quiet', '--timeout', '60', 'examples/collectives.ts'], { limitMs: 90_000 });
  t.equal(r.code, 0, r.stderr);
  checkCollectivesOutput(t, r.stdout, 3);
});

t.test('a token round a ring of polling threads, and large messages between them', async (t) => {
  const r = await dsrun(['-n', '2', '--threads', '--poll', '-q', 'test/fixtures/poll.ts', '500']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, 'token 1000 sum 1\n');
  // 3 MiB exchanged both ways at once, the data checked: chunks posted between ring frames.
  const large = await dsrun(['-n', '2', '--threads', '--poll', '-q', 'bench/programs/large-exchange.ts', '3', '2']);
  t.equal(large.code, 0, large.stderr);
});

t.test('a polling thread that waits in a receive stops spinning and sleeps', async (t) => {
  const r = await dsrun(['-n', '2', '--threads', '--poll', '--quiet', 'bench/programs/idle.ts', '3']);
  t.equal(r.code, 0, r.stderr);
  const { processCpuS } = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { processCpuS: number };
  // Spinning for the whole wait would use 3 s of CPU; the rank spins 20 ms, then sleeps.
  t.ok(processCpuS < 1.5, `the process of both ranks used ${processCpuS} s of CPU in 3 s`);
});

t.test('--timeout reports what a polling thread waits on', async (t) => {
  const r = await dsrun(['-n', '2', '--threads', '--poll', '--timeout', '10', 'test/fixtures/stuck.ts'], { limitMs: 60_000 });
  t.equal(r.code, 124);
  t.match(r.stderr, /rank 0: recv\(source=1, tag=5\) for \d+\.\d s/);
});

t.test('barriers of polling threads, blocking and several in flight: nobody leaves before everyone entered', async (t) => {
  // World barriers spin on a generation word in shared memory; a late rank makes the others sleep.
  const r = await dsrun(['-n', '3', '--threads', '--poll', '--timeout', '60', 'test/fixtures/barriers.ts'], { limitMs: 90_000 });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout.match(/^\[rank \d\] barriers ok 150$/gm)?.length, 3, 'every rank passed 150 barriers');
});

t.test('barriers of more polling threads than cores: ranks that lose their core sleep, each released by its own barrier', async (t) => {
  // Threads that lose their core stop spinning and flag themselves asleep; the last to arrive at a
  // barrier, itself descheduled between its release and its reading of the flags, must not take the
  // flag of a rank already asleep in the next barrier (it hung once in about four jobs when it did).
  const n = String(availableParallelism() + 2);
  for (let job = 0; job < 3; job++) {
    const r = await dsrun(['-n', n, '--threads', '--poll', '--timeout', '60', 'test/fixtures/barriers.ts'], { limitMs: 90_000 });
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout.match(/^\[rank \d+\] barriers ok 150$/gm)?.length, Number(n), `job ${job}: every rank passed 150 barriers`);
  }
});

t.test('a polling thread killed while the others wait in a world barrier: the barrier fails with DS_ERR_PEER_LOST', async (t) => {
  await barrierWithVictim(t, 3, ['--threads', '--poll'], 60_000);
});

t.test('--timeout reports how many ranks a barrier of polling threads still waits for', async (t) => {
  const r = await dsrun(['-n', '3', '--threads', '--poll', '--timeout', '15', 'test/fixtures/barriers.ts', 'absent'], { limitMs: 60_000 });
  t.equal(r.code, 124);
  for (const rank of [1, 2])
    t.match(r.stderr, new RegExp(`rank ${rank}: barrier\\(\\): waiting for 1 of 3 ranks to arrive for \\d+\\.\\d s`));
});
