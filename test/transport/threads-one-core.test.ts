// Polling rank threads pinned to one core (taskset -c 0), where a rank that spins holds the core
// its peer needs to answer: each rank must see that it loses its core, stop spinning and sleep
// (runtime/transport/ring-poller.ts), so a job of many small waits (receives, barriers, one-sided
// calls) finishes in a few seconds, not a time slice per message.
import { spawn, spawnSync } from 'node:child_process';
import t from 'tap';
import { dsrunBin, root } from '../helpers/dsrun.ts';

const taskset = process.platform === 'linux' && spawnSync('taskset', ['-c', '0', 'true']).status === 0;

// Jobs on a machine that may be loaded.
t.setTimeout(300_000);

/** dsrun --threads --poll -n 2 on core 0 only, with --timeout `timeoutS`. */
function onOneCore(timeoutS: number, program: string, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const child = spawn(
    'taskset',
    ['-c', '0', process.execPath, dsrunBin, '-n', '2', '--threads', '--poll', '-q', '--timeout', String(timeoutS), program, ...args],
    { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

// Before the ranks noticed, a round trip took a time slice of the core (about 16 ms with other
// work on the machine): 3,000 of them took some 50 s. Now they take about a second.
t.test(
  '3,000 round trips, an allreduce and a barrier between two polling threads on one core',
  { skip: !taskset && 'no taskset' },
  async (t) => {
    const r = await onOneCore(30, 'test/fixtures/poll.ts', '3000');
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, 'token 6000 sum 1\n');
  },
);

t.test(
  'barriers, several in flight, and one-sided counter calls of two polling threads on one core',
  { skip: !taskset && 'no taskset' },
  async (t) => {
    const r = await onOneCore(30, 'test/fixtures/barriers.ts');
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout.match(/^barriers ok 150$/gm)?.length, 2, 'both ranks passed 150 barriers');
  },
);
