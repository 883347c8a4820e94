import t from 'tap';
import { explore, type ExploreOptions } from 'dsmpi/explore';
import { loadMutant, mutants } from '../../algorithms/fuzz-targets/mutants.ts';
import { targetNamed } from '../../algorithms/fuzz-targets/index.ts';

t.test('Raft voting without the log check: a follower that outwaits an election timeout shows it', async (t) => {
  const m = mutants.find((x) => x.name === 'raft-votes-without-log-check')!;
  t.ok(m.timerBudget !== undefined && m.timerBudget > 2, 'the mutant asks for more timer firings ahead than the default');
  const mutant = await loadMutant(m);
  const original = targetNamed(m.target)!;
  const options: ExploreOptions = {
    n: m.n,
    strategy: 'random',
    timing: 'async',
    timerBudget: m.timerBudget,
    seed: 2_000_006,
    executions: 100,
  };
  const found = await explore(options, () => mutant.setup(m.n));
  t.ok(found.failure, `found in ${found.executions} executions`);
  // Seen by the invariants checked after every event, at the step the stale candidate wins.
  t.equal(found.failure!.code, 'DS_ERR_INVARIANT');
  t.match(found.failure!.message, /leader completeness.*was committed in term \d+.*leader of term \d+/);
  const replay = await explore({ ...options, seed: found.failure!.seed, schedule: found.failure!.schedule }, () => mutant.setup(m.n));
  t.equal(replay.failure?.message, found.failure!.message, 'its line replays it');

  const clean = await explore({ ...options, executions: found.failure!.foundAfter }, () => original.setup(m.n));
  t.equal(clean.failure, undefined, 'the same executions pass on the original port');
  const tight = await explore({ ...options, timerBudget: 2, executions: found.failure!.foundAfter }, () => mutant.setup(m.n));
  t.equal(tight.failure, undefined, 'with the default timer budget, the same search misses it');
});
