import t from 'tap';
import { explore } from 'dsmpi/explore';
import { loadMutant, mutants } from '../../algorithms/fuzz-targets/mutants.ts';
import { targetNamed } from '../../algorithms/fuzz-targets/index.ts';

t.test('every mutant of the bug benchmark still applies to its source, exactly once', async (t) => {
  for (const m of mutants) {
    const target = await loadMutant(m);
    t.equal(target.name, m.target, `${m.name}: loads the ${m.target} fuzz target`);
    t.not(target, targetNamed(m.target), `${m.name}: a copy of the code, not the original`);
  }
  await t.rejects(loadMutant({ ...mutants[0], name: 'gone', from: 'no such line' }), /"no such line" occurs 0 times/);
});

t.test('the explorer finds a mutant the original survives, and its counterexample replays', async (t) => {
  const m = mutants.find((x) => x.name === 'raft-votes-twice')!;
  const mutant = await loadMutant(m);
  const original = targetNamed(m.target)!;
  const options = { n: m.n, strategy: 'random' as const, seed: 1, executions: 300 };
  const found = await explore(options, () => mutant.setup(m.n));
  t.ok(found.failure, `found in ${found.executions} executions`);
  t.match(found.failure!.message, /two leaders/);
  const replay = await explore({ ...options, seed: found.failure!.seed, schedule: found.failure!.schedule }, () => mutant.setup(m.n));
  t.equal(replay.failure?.message, found.failure!.message, 'the printed schedule and seed replay it');
  const clean = await explore({ ...options, executions: found.failure!.foundAfter }, () => original.setup(m.n));
  t.equal(clean.failure, undefined, 'the same executions pass on the original');
});

t.test('npm run explore refuses a malformed schedule, from the flag or DSMPI_SCHEDULE, with the reason and no stack', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const cli = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'algorithms/fuzz-targets/explore-cli.ts', ...args], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
  for (const r of [cli(['raft', '--schedule', 'garbage']), cli(['raft'], { DSMPI_SCHEDULE: '1:zz' })]) {
    t.equal(r.status, 1);
    t.match(r.stderr, /is not step:index or step:indexx/);
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

t.test('async timing: executions of the Paxos port, which retries on timers, end by themselves', async (t) => {
  const paxos = targetNamed('single-paxos')!;
  for (const strategy of ['random', 'pct'] as const) {
    const r = await explore({ n: 5, strategy, seed: 2, executions: 3, timing: 'async' }, () => paxos.setup(5));
    t.equal(r.failure, undefined, `${strategy}: no failure`);
    t.equal(r.cut, 0, `${strategy}: none cut at the step cap`);
  }
});

t.test('async timing: a vote delayed past the 2PC coordinator’s timeout, with no loss, shows its mutant', async (t) => {
  const m = mutants.find((x) => x.name === '2pc-commits-on-timeout')!;
  const mutant = await loadMutant(m);
  const r = await explore({ n: m.n, strategy: 'pct', seed: 1, executions: 50, timing: 'async' }, () => mutant.setup(m.n));
  t.ok(r.failure, `found in ${r.executions} executions, without a loss budget`);
});

t.test('the Paxos port in its core layout (two proposers, three acceptors) decides, and shows both Paxos mutants', async (t) => {
  const core = targetNamed('single-paxos-core')!;
  const clean = await explore({ n: 5, strategy: 'random', seed: 1, executions: 20, timing: 'async' }, () => core.setup(5));
  t.equal(clean.failure, undefined, 'the original: agreement, validity, every rank decides');
  t.equal(clean.cut, 0);
  for (const m of mutants.filter((x) => x.target === 'single-paxos-core')) {
    t.equal(m.n, 5);
    const mutant = await loadMutant(m);
    const r = await explore({ n: 5, strategy: 'pct', pctThreads: 'link', seed: 1, executions: 200, timing: 'async', minimize: false }, () =>
      mutant.setup(5),
    );
    t.match(r.failure?.message, /agree|decided|differ|value/i, `${m.name}: found after ${r.failure?.foundAfter}`);
  }
});
