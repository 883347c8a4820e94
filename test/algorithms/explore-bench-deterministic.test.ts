import { spawnSync } from 'node:child_process';
import t from 'tap';

const bench = (strategy: string): string => {
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      'algorithms/fuzz-targets/explore-cli.ts',
      'bench',
      '--mutant',
      '2pc-commits-on-timeout',
      '--strategy',
      strategy,
      '--timing',
      'async',
      '--executions',
      '400',
      '--no-minimize',
    ],
    { encoding: 'utf8', timeout: 120_000 },
  );
  if (r.status !== 0) throw new Error(`the bench failed: ${r.stderr}`);
  return r.stdout;
};

for (const strategy of ['delay-bounding', 'dpor'])
  t.test(`the bench runs ${strategy} once and prints the round and the exact execution of the failure, the same every run`, async (t) => {
    const first = bench(strategy);
    const row = first.split('\n').find((line) => line.startsWith('| 2pc-commits-on-timeout'));
    t.ok(row, 'one row for the mutant');
    const m = /1 search \(deterministic, seed 1\): found at bound (\d+) \(rounds of ([\d, ]+) executions\) \| (\d+) \|/.exec(row!);
    t.ok(m, `one search, its bound and rounds: ${row}`);
    const rounds = m![2].split(', ').map(Number);
    t.equal(rounds.length, Number(m![1]) + 1, 'one round per bound up to the one it was found in');
    t.equal(
      rounds.reduce((a, b) => a + b, 0),
      Number(m![3]),
      'the failure is the last execution of the last round',
    );
    t.equal(rounds[0], 1, 'round 0 is the seed’s own order');
    const again = bench(strategy)
      .split('\n')
      .find((line) => line.startsWith('| 2pc-commits-on-timeout'));
    // The seconds differ; everything else is the same.
    const strip = (line: string): string => line.replace(/\| [\d.]+ \| (\d+) \| (\d+) \|$/, '| $1 | $2 |');
    t.equal(strip(again!), strip(row!), 'the same round and execution count again');
  });
