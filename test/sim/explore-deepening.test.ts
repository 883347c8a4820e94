import t from 'tap';
import { explore, parseSchedule } from 'dsmpi/explore';
import { gather } from '../helpers/explore-programs.ts';

/** A seed and the sender whose message its own order delivers last. */
async function lastInSeedOrder(seed: number): Promise<number> {
  const orders: number[][] = [];
  await explore({ n: 4, strategy: 'delay-bounding', delays: 0, seed }, gather(false, 3, orders));
  return orders[0][2];
}

t.test('iterative deepening finds a bug of two deviations at one exact execution count, every run', async (t) => {
  const seed = 5;
  const late = await lastInSeedOrder(seed);
  // Step 0 offers the three messages, step 1 the other two. Round 0 runs the seed's order; round 1
  // every schedule of ≤ 1 deviation ((0,0) again, (0,1), (1,0)); round 2 repeats those three and
  // runs (1,1), then (2,0): the late sender's message first, at execution 1 + 3 + 5 = 9.
  const runs = [];
  for (let i = 0; i < 3; i++)
    runs.push(await explore({ n: 4, strategy: 'delay-bounding', delays: 2, seed, minimize: false }, gather(true, late)));
  for (const r of runs) {
    t.match(r.failure?.message, new RegExp(`rank 0 heard rank ${late} first`));
    t.equal(r.failure!.foundAfter, 9, 'found at the ninth execution');
    t.same(r.rounds, [1, 3, 5], 'in the round of two deviations, after rounds of 1 and 3 executions');
    t.equal(r.revisits, 1 + 3, 'round 1 repeats round 0’s schedule, round 2 the three of round 1');
    t.equal(r.failure!.schedule, '0:2', 'the counterexample: two deviations, the fewest that show it');
  }
  t.same(
    runs.map((r) => r.failure!.seed),
    [seed, seed, seed],
    'with the explorer’s own seed',
  );
  // A deviation of one finds nothing: the bound of 1 is exhausted first.
  const one = await explore({ n: 4, strategy: 'delay-bounding', delays: 1, seed }, gather(true, late));
  t.equal(one.failure, undefined);
  t.equal(one.exhausted, true);
  t.same(one.rounds, [1, 3]);
});

t.test('a correct program: deepening ends at the delay bound, or sooner at a round with nothing new', async (t) => {
  const seed = 5;
  // Schedules (i0, i1), i0 < 3, i1 < 2, cost i0 + i1: one of 0, two of 1, two of 2, one of 3.
  const two = await explore({ n: 4, strategy: 'delay-bounding', delays: 2, seed }, gather(false));
  t.equal(two.failure, undefined);
  t.equal(two.exhausted, true, 'bound 2 exhausted');
  t.same(two.rounds, [1, 3, 5]);
  const three = await explore({ n: 4, strategy: 'delay-bounding', delays: 3, seed }, gather(false));
  t.same(three.rounds, [1, 3, 5, 6], 'bound 3: every order of the three messages');
  t.equal(three.exhausted, true);
  // Round 4 would only repeat: no schedule costs 4, so none can cost more, and the search ends there.
  const many = await explore({ n: 4, strategy: 'delay-bounding', delays: 10, seed }, gather(false));
  t.same(many.rounds, [1, 3, 5, 6, 6], 'a round of repeats only ends the search');
  t.equal(many.exhausted, true, 'a proof for every bound');
});

t.test('a loss is one deviation: a lost message comes before a delay of two', async (t) => {
  // The program is not written for loss: a lost message deadlocks rank 0 (a liveness failure).
  const seed = 5;
  const late = await lastInSeedOrder(seed);
  const r = await explore({ n: 4, strategy: 'delay-bounding', delays: 2, drops: 1, seed, minimize: false }, gather(true, late));
  t.equal(r.failure?.code, 'DS_ERR_DEADLOCK', 'found in round 1, before the delay of two');
  t.equal(r.rounds!.length, 2);
  const schedule = parseSchedule(r.failure!.schedule);
  t.same([...schedule.values()], [{ index: 0, lose: true }], `one loss: ${r.failure!.schedule}`);
  const again = await explore({ n: 4, strategy: 'delay-bounding', delays: 2, drops: 1, seed, minimize: false }, gather(true, late));
  t.equal(again.failure!.foundAfter, r.failure!.foundAfter, 'at the same execution count again');
});
