import t from 'tap';
import { judgeCapacity, RANK_MEMORY } from '../../launcher/capacity.ts';
import { parseDuration } from '../../launcher/duration.ts';
import { mpirunSpellings, NotSupported } from '../../launcher/mpirun-habits.ts';

const takesValue = (flag: string) => ['--np', '-n', '--hosts', '-H', '--hostfile', '--timeout', '-x'].includes(flag);

t.test('mpirun spellings before the program become dsrun options; the program and its arguments are left alone', async (t) => {
  t.same(mpirunSpellings(['-np', '4', 'prog.ts', '-np', '2'], takesValue), ['--np', '4', 'prog.ts', '-np', '2']);
  t.same(mpirunSpellings(['-hostfile', 'hosts', '-host', 'a:2', 'p.ts'], takesValue), ['--hostfile', 'hosts', '--hosts', 'a:2', 'p.ts']);
  t.same(mpirunSpellings(['--host=a:2,b:2', '--machinefile', 'f', 'p.ts'], takesValue), ['--hosts=a:2,b:2', '--hostfile', 'f', 'p.ts']);
  // The value of an option is not taken for the program: `-x -np` passes a variable named -np (refused later).
  t.same(mpirunSpellings(['-x', 'A=1', '-np', '2', 'p.ts', '--map-by', 'x'], takesValue), [
    '-x',
    'A=1',
    '--np',
    '2',
    'p.ts',
    '--map-by',
    'x',
  ]);
  t.same(mpirunSpellings(['--', '-np'], takesValue), ['--', '-np']);
});

t.test('mpirun options dsrun has no use for are refused with the reason', async (t) => {
  for (const flag of ['--map-by', '--bind-to', '--mca', '-mca', '--rank-by', '--map-by=core']) {
    let caught: unknown;
    try {
      mpirunSpellings(['-n', '2', flag, 'x', 'p.ts'], takesValue);
    } catch (err) {
      caught = err;
    }
    t.ok(caught instanceof NotSupported, flag);
    t.throws(() => mpirunSpellings([flag, 'x'], takesValue), { message: new RegExp(`^not supported: ${flag.split('=')[0]}: .+`) });
  }
  t.same(mpirunSpellings(['p.ts', '--mca', 'btl', 'tcp'], takesValue), ['p.ts', '--mca', 'btl', 'tcp'], "after the program: the program's");
  // -N (ranks per host) is one dsrun takes: passed on to the option parser, not refused.
  t.doesNotThrow(() => mpirunSpellings(['-N', '2', 'p.ts'], takesValue), '-N is taken');
});

t.test('times: units, plain numbers in the flag unit, and clear refusals', async (t) => {
  t.equal(parseDuration('5s'), 5000);
  t.equal(parseDuration('200ms'), 200);
  t.equal(parseDuration('1m'), 60_000);
  t.equal(parseDuration('1.5'), 1500, 'plain: seconds');
  t.equal(parseDuration('.5s'), 500);
  t.equal(parseDuration('250', 'ms'), 250, 'plain: milliseconds for -ms flags');
  for (const bad of ['', 'soon', '5 h', '-1s', '1e3']) t.throws(() => parseDuration(bad), { message: /is not a time; write e\.g\. 200ms/ });
});

const GiB = 2 ** 30;

t.test('capacity: refuse past what the machine has, warn past half, stay silent well below', async (t) => {
  const machine = { availableMemory: 20 * GiB, openFilesLimit: 20_000 };
  t.same(judgeCapacity(5, 'process', machine), {}, '5 ranks: silent (more ranks than cores is fine)');
  t.same(judgeCapacity(100, 'process', machine), {});
  const half = Math.ceil((10 * GiB) / RANK_MEMORY.process) + 1;
  t.match(judgeCapacity(half, 'process', machine), {
    warn: /ranks as processes need about .* of memory \(60 MiB each\); 20\.0 GiB is available/,
  });
  t.match(judgeCapacity(100_000, 'process', machine), { refuse: /^100000 ranks as processes need about 5859\.4 GiB of memory/ });
  t.same(judgeCapacity(1000, 'thread', { ...machine, availableMemory: 100 * GiB }), {}, 'threads are lighter');
  t.match(judgeCapacity(1000, 'thread', { availableMemory: 100 * GiB, openFilesLimit: 1024 }), {
    refuse: /need about \d+ open files in one process; the limit is 1024 \(ulimit -n\)/,
  });
  t.match(judgeCapacity(150, 'process', { availableMemory: 100 * GiB, openFilesLimit: 1024 }), { warn: /open files/ });
  t.same(judgeCapacity(150, 'process', { availableMemory: 100 * GiB }), {}, 'no known limit: memory alone');
});
