import t from 'tap';
import { explore, parseSchedule } from 'dsmpi/explore';
import { gather, timeoutBesideRing, twoReceivers } from '../helpers/explore-programs.ts';

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

t.test('a correct program: deepening ends at the delay bound, or sooner once no choice is left beyond the round', async (t) => {
  const seed = 5;
  // Schedules (i0, i1), i0 < 3, i1 < 2, cost i0 + i1: one of 0, two of 1, two of 2, one of 3.
  const two = await explore({ n: 4, strategy: 'delay-bounding', delays: 2, seed }, gather(false));
  t.equal(two.failure, undefined);
  t.equal(two.exhausted, true, 'bound 2 exhausted');
  t.same(two.rounds, [1, 3, 5]);
  const three = await explore({ n: 4, strategy: 'delay-bounding', delays: 3, seed }, gather(false));
  t.same(three.rounds, [1, 3, 5, 6], 'bound 3: every order of the three messages');
  t.equal(three.exhausted, true);
  // No schedule costs 4: round 3 leaves no choice for a later round, and the search ends without a round of repeats.
  const many = await explore({ n: 4, strategy: 'delay-bounding', delays: 10, seed }, gather(false));
  t.same(many.rounds, [1, 3, 5, 6], 'nothing left beyond round 3 ends the search');
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

t.test('delay bounding counting deviations: a timer fired ahead of the messages due before it costs 1, not its place', async (t) => {
  // At the race, the timeout is offered after the pong and the ring's tokens in flight.
  const run = timeoutBesideRing(5);
  const options = { n: 5, strategy: 'delay-bounding', timing: 'async' } as const;
  const byDelays = await explore(options, run);
  const byDeviations = await explore({ ...options, roundCost: 'deviations' }, run);
  for (const r of [byDelays, byDeviations]) t.match(r.failure?.message, /rank 0 timed out/, 'found');
  t.equal(byDelays.rounds!.length - 1, 2, `counting delays: found at bound 2 (rounds ${byDelays.rounds!.join(', ')})`);
  t.equal(byDeviations.rounds!.length - 1, 1, `counting deviations: found at bound 1 (rounds ${byDeviations.rounds!.join(', ')})`);
  t.ok(
    byDeviations.failure!.foundAfter < byDelays.failure!.foundAfter,
    `in fewer executions: ${byDeviations.failure!.foundAfter} against ${byDelays.failure!.foundAfter}`,
  );
  t.match(byDeviations.strategy, /≤2 delays \(each costs 1\)/, byDeviations.strategy);
  // `delays` then bounds how many delays, not their sum: one is enough, where counting delays it is not.
  const oneByDelays = await explore({ ...options, delays: 1 }, run);
  t.equal(oneByDelays.failure, undefined, 'one delay counting delays: none shows it');
  t.equal(oneByDelays.exhausted, true, 'and the bound is exhausted');
  const oneByDeviations = await explore({ ...options, delays: 1, roundCost: 'deviations' }, run);
  t.match(oneByDeviations.failure?.message, /rank 0 timed out/, `one delay counting deviations: ${oneByDeviations.failure?.schedule}`);
  const again = await explore({ ...options, roundCost: 'deviations' }, run);
  t.same(
    [again.failure!.foundAfter, again.failure!.schedule],
    [byDeviations.failure!.foundAfter, byDeviations.failure!.schedule],
    'the same execution and counterexample again',
  );
  const replay = await explore({ ...options, schedule: byDeviations.failure!.schedule }, run);
  t.match(replay.failure?.message, /rank 0 timed out/, `${byDeviations.failure!.schedule} replays`);
});

t.test(
  'delay bounding shallow first: a round takes its early deviations first, and its last round is still the whole search',
  async (t) => {
    // The ring runs on for 20 hops after the race: a depth-first round reorders its late steps first.
    const run = timeoutBesideRing(20);
    for (const roundCost of ['delays', 'deviations'] as const) {
      const options = { n: 5, strategy: 'delay-bounding', timing: 'async', roundCost } as const;
      const deepFirst = await explore(options, run);
      const shallow = await explore({ ...options, shallowFirst: 8 }, run);
      for (const r of [deepFirst, shallow]) t.match(r.failure?.message, /rank 0 timed out/, `${roundCost}: found`);
      t.equal(shallow.rounds!.length, deepFirst.rounds!.length, `${roundCost}: at the same bound, ${shallow.rounds!.length - 1}`);
      t.ok(
        shallow.failure!.foundAfter * 5 < deepFirst.failure!.foundAfter,
        `${roundCost}: in far fewer executions: ${shallow.failure!.foundAfter} against ${deepFirst.failure!.foundAfter}`,
      );
      t.match(shallow.strategy, /shallow first 8/, shallow.strategy);
    }
    // Exhausted, a search in passes reaches every outcome the plain one does: its last round's last pass is that round.
    for (const timing of ['async', 'bounded'] as const)
      for (const roundCost of ['delays', 'deviations'] as const) {
        const plain = twoReceivers();
        const byPasses = twoReceivers();
        const options = { n: 4, strategy: 'delay-bounding', timing, roundCost, delays: 10 } as const;
        const a = await explore(options, plain.run);
        const b = await explore({ ...options, shallowFirst: 1 }, byPasses.run);
        t.equal(a.exhausted && b.exhausted, true, `${timing}, ${roundCost}: both exhausted`);
        t.equal(
          b.rounds!.length,
          a.rounds!.length,
          `${timing}, ${roundCost}: as many rounds (${b.rounds!.join(', ')}; ${a.rounds!.join(', ')})`,
        );
        t.ok(b.rounds!.at(-1)! >= a.rounds!.at(-1)!, `${timing}, ${roundCost}: its last round holds the whole search`);
        t.same([...new Set(byPasses.seen)].sort(), [...new Set(plain.seen)].sort(), `${timing}, ${roundCost}: the same outcomes`);
        t.equal(new Set(plain.seen).size, 4, `${timing}, ${roundCost}: all four`);
      }
  },
);

t.test('the round options are checked in one place: refused for a strategy without rounds, with the option and the strategy', async (t) => {
  const run = gather(false);
  for (const strategy of ['seeds', 'random', 'pct', 'pctcp', 'dfs'] as const) {
    await t.rejects(
      explore({ n: 4, strategy, shallowFirst: 8 }, run),
      new RegExp(`shallowFirst is for the searches in rounds \\(delay-bounding, dpor\\), not ${strategy}`),
      `shallowFirst, ${strategy}`,
    );
    await t.rejects(
      explore({ n: 4, strategy, roundCost: 'deviations' }, run),
      new RegExp(`roundCost 'deviations' is for the searches in rounds \\(delay-bounding, dpor\\), not ${strategy}`),
      `roundCost, ${strategy}`,
    );
  }
  await t.rejects(
    explore({ n: 4, strategy: 'dpor', deepening: false, shallowFirst: 8 }, run),
    /shallowFirst is for dpor in rounds, not with deepening: false/,
    'dpor without rounds',
  );
  await t.rejects(explore({ n: 4, strategy: 'delay-bounding', shallowFirst: 0 }, run), /shallowFirst must be an integer >= 1, got 0/);
  await t.rejects(
    explore({ n: 4, strategy: 'delay-bounding', roundCost: 'preemptions' as 'delays' }, run),
    /roundCost must be delays or deviations, got preemptions/,
  );
  // Counting delays is every strategy's default, so saying so is no error.
  const r = await explore({ n: 4, strategy: 'random', roundCost: 'delays', executions: 2 }, run);
  t.equal(r.executions, 2);
});
