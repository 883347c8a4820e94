import t from 'tap';
import { spawnSync } from 'node:child_process';

const cli = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'algorithms/fuzz-targets/explore-cli.ts', ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });

t.test('npm run explore takes the fault budgets, and refuses bad values with the reason', async (t) => {
  const help = cli(['--help']);
  for (const flag of [
    '--crashes <c>',
    '--restart-after <ms>',
    '--partitions <p>',
    '--partition-ms <ms>',
    '--partition-shape <shape>',
    '--pauses <s>',
    '--pause-ms <ms>',
  ])
    t.match(help.stdout, flag, `--help names ${flag}`);
  for (const [args, reason] of [
    [['--crashes', '-1'], /--crashes must be an integer >= 0, got '-1'/],
    [['--partitions', '1', '--partition-ms', '0'], /--partition-ms takes milliseconds > 0 or 'never', got '0'/],
    [['--partitions', '1', '--partition-shape', 'ring'], /argument 'ring' is invalid. Allowed choices are isolate, one-way/],
    [['--crashes', '1', '--restart-after', 'soon'], /--restart-after takes milliseconds >= 0, got 'soon'/],
    [['--pauses', '1.5'], /--pauses must be an integer >= 0, got '1.5'/],
    [['--pauses', '1', '--pause-ms', 'soon'], /--pause-ms takes milliseconds >= 0, got 'soon'/],
  ] as const) {
    const r = cli(['two-phase-commit', ...args]);
    t.equal(r.status, 1, args.join(' '));
    t.match(r.stderr, reason);
  }
});

t.test('a counterexample with a chosen crash replays from its printed line', async (t) => {
  // The Paxos port's client crashed before it sends its value: the proposers wait for it forever.
  const r = cli(['single-paxos', '--n', '5', '--seed', '70', '--schedule', '0:c0']);
  t.equal(r.status, 1, 'a failure');
  t.match(r.stdout, /schedule 0:c0, bounded timing: 1 executions/);
  t.match(r.stdout, /DS_ERR_DEADLOCK after 1 executions/);
  t.match(r.stdout, /replay: npm run explore -- single-paxos --n 5 --seed 70 --schedule '0:c0'/);
});

t.test('--pauses offers a pause of each running rank, and a schedule naming one replays', async (t) => {
  const r = cli(['two-phase-commit', '--n', '3', '--strategy', 'delay-bounding', '--delays', '0', '--pauses', '1', '--pause-ms', '30']);
  t.equal(r.status, 0, 'no failure');
  t.match(r.stdout, /≤1 pauses, bounded timing: \d+ executions.*pauses of 30 ms.*the bounded space is exhausted/);
  const replay = cli(['two-phase-commit', '--n', '3', '--schedule', '0:s0', '--pause-ms', '30']);
  t.equal(replay.status, 0, 'the pause of rank 0 replays, without a failure');
  t.match(replay.stdout, /schedule 0:s0, bounded timing: 1 executions/);
});
