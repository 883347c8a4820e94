import { spawnSync } from 'node:child_process';
import t from 'tap';

const bench = (strategy: string, ...flags: string[]): string => {
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
      ...(flags.length ? flags : ['--timing', 'async', '--executions', '400', '--no-minimize']),
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
    const m = /1 search \(deterministic, seed 1\): found at bound (\d+) \(rounds of ([\d, ]+) executions\)[^|]* \| (\d+) \|/.exec(row!);
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

t.test('the bench gives a mutant its fault budget: dpor finds 2pc-commits-on-timeout with one partition, at bound 1', async (t) => {
  const row = (out: string): string => out.split('\n').find((line) => line.startsWith('| 2pc-commits-on-timeout'))!;
  // The mutant's budget (mutants.ts): one partition of 1000 ms, cutting a participant off past both timeouts.
  const found = row(bench('dpor', '--executions', '100'));
  t.match(found, /bounded, ≤ 4 losses, ≤ 1 partitions \(isolate, 1000 ms\)/, 'the budget is in its cell');
  const m = /found at bound 1 \(rounds of 1, (\d+) executions\); counterexample `([^`]*:p\d[^`]*)`, replays from its line \| (\d+) \|/.exec(
    found,
  );
  t.ok(m, `found at bound 1, the counterexample with a partition, which replays: ${found}`);
  t.equal(Number(m![3]), 1 + Number(m![1]), 'at the last execution of round 1');
  // Without it (the flag overrides the mutant's budget), the losses alone need more than 100 executions.
  const without = row(bench('dpor', '--executions', '100', '--partitions', '0'));
  t.match(without, /not found within the budget/, `not found without the partition: ${without}`);
});

t.test('the bench runs delay bounding shallow first: the same bound, in fewer executions', async (t) => {
  const row = (out: string): string => out.split('\n').find((line) => line.startsWith('| 2pc-commits-on-timeout'))!;
  const executions = (line: string): number => Number(/found at bound 1 \(rounds of 1, \d+ executions\);[^|]* \| (\d+) \|/.exec(line)![1]);
  const plain = row(bench('delay-bounding', '--executions', '100'));
  const out = bench('delay-bounding', '--executions', '100', '--shallow-first', '8');
  t.match(out, /each round shallow first \(its first 8 steps, then twice as many, …\)/, 'the header says so');
  const shallow = row(out);
  t.ok(
    executions(shallow) < executions(plain),
    `found at bound 1 in ${executions(shallow)} executions, ${executions(plain)} without:\n${shallow}`,
  );
  const deviations = row(bench('delay-bounding', '--executions', '100', '--round-cost', 'deviations', '--shallow-first', '8'));
  t.match(deviations, /found at bound 1/, `and counting deviations: ${deviations}`);
});

t.test('--round-cost and --shallow-first are refused for a strategy without rounds, with the reason', async (t) => {
  const cli = (...args: string[]): ReturnType<typeof spawnSync> =>
    spawnSync(process.execPath, ['--import', 'tsx', 'algorithms/fuzz-targets/explore-cli.ts', ...args], {
      encoding: 'utf8',
      timeout: 60_000,
    });
  const pct = cli('bench', '--strategy', 'pct', '--round-cost', 'deviations');
  t.equal(pct.status, 1, 'exits 1');
  t.match(pct.stderr, /roundCost 'deviations' is for the searches in rounds \(delay-bounding, dpor\), not pct\n/, String(pct.stderr));
  const dfs = cli('two-phase-commit', '--strategy', 'dfs', '--shallow-first', '8');
  t.equal(dfs.status, 1, 'exits 1');
  t.match(dfs.stderr, /shallowFirst is for the searches in rounds \(delay-bounding, dpor\), not dfs/, String(dfs.stderr));
  const unsaid = cli('bench', '--shallow-first', '8');
  t.equal(unsaid.status, 1, 'exits 1');
  t.match(unsaid.stderr, /not pct \(the default --strategy; give --strategy delay-bounding or dpor\)/, String(unsaid.stderr));
});

t.test('bench --schedule runs one schedule on the mutant: its counterexample fails, the seed’s own order does not', async (t) => {
  const run = (line: string): ReturnType<typeof spawnSync> =>
    spawnSync(
      process.execPath,
      ['--import', 'tsx', 'algorithms/fuzz-targets/explore-cli.ts', 'bench', '--mutant', '2pc-commits-on-timeout', '--schedule', line],
      { encoding: 'utf8', timeout: 60_000 },
    );
  const cut = run('1:p0');
  t.equal(cut.status, 1, 'exits 1 on the failure');
  t.match(cut.stdout, /schedule 1:p0: FAILED: CHECK .*atomicity violated: rank 0 COMMITTED/, String(cut.stdout));
  const seeded = run('0:0');
  t.equal(seeded.status, 0, 'exits 0');
  t.match(seeded.stdout, /schedule 0:0: no failure/, String(seeded.stdout));
});
