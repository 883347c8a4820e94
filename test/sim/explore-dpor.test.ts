import t from 'tap';
import type { Communicator } from 'dsmpi';
import type { SimEvent } from '../../runtime/sim/event-queue.ts';
import { explore, type ExploreRun } from 'dsmpi/explore';
import { Dpor } from '../../runtime/sim/explore/dpor.ts';
import { exploreWith } from '../../runtime/sim/explore/explore.ts';
import { gather, timeoutBesideRing, twoReceivers } from '../helpers/explore-programs.ts';

t.test('dpor runs one execution per Mazurkiewicz trace and reaches every outcome dfs reaches', async (t) => {
  for (const timing of ['async', 'bounded'] as const) {
    const full = twoReceivers();
    const every = await explore({ n: 4, strategy: 'dfs', timing }, full.run);
    t.equal(every.executions, 24, `${timing}: dfs runs the 24 interleavings`);
    const reduced = twoReceivers();
    const r = await explore({ n: 4, strategy: 'dpor', timing, deepening: false }, reduced.run);
    t.equal(r.exhausted, true, `${timing}: exhausted`);
    t.equal(r.executions, 4, `${timing}: 4 executions, one per trace`);
    t.equal(r.pruned, 0, `${timing}: none cut short by sleep sets`);
    t.same([...new Set(reduced.seen)].sort(), [...new Set(full.seen)].sort(), `${timing}: the outcomes of every interleaving`);
    t.equal(new Set(reduced.seen).size, 4, `${timing}: each outcome once`);
    // In rounds of deviations, the last round is the whole search again.
    const rounds = await explore({ n: 4, strategy: 'dpor', timing }, twoReceivers().run);
    t.equal(rounds.exhausted, true, `${timing}: exhausted in rounds`);
    t.equal(rounds.rounds!.at(-1), 4, `${timing}: its last round is the 4 executions (rounds ${rounds.rounds!.join(', ')})`);
  }
  // Three deliveries to one rank: every order is a trace of its own, 3! = 6.
  const orders: number[][] = [];
  const one = await explore({ n: 4, strategy: 'dpor', timing: 'async', deepening: false }, gather(false, 3, orders));
  const order = orders.map((o) => o.join(''));
  t.equal(one.executions, 6, 'three messages to one rank: 6 executions');
  t.same([...order].sort(), ['123', '132', '213', '231', '312', '321'], 'each order once');
});

t.test('dpor finds a planted bug, deterministically, and its schedule replays', async (t) => {
  for (const deepening of [true, false]) {
    const a = await explore({ n: 4, strategy: 'dpor', timing: 'async', deepening }, gather(true));
    const b = await explore({ n: 4, strategy: 'dpor', timing: 'async', deepening }, gather(true));
    t.match(a.failure?.message, /rank 0 heard rank 3 first/, `deepening ${deepening}: found`);
    t.equal(a.failure!.foundAfter, b.failure!.foundAfter, `deepening ${deepening}: at the same execution twice (${a.failure!.foundAfter})`);
    t.equal(a.failure!.schedule, b.failure!.schedule, `deepening ${deepening}: the same counterexample`);
    const replay = await explore({ n: 4, strategy: 'dpor', timing: 'async', schedule: a.failure!.schedule }, gather(true));
    t.match(replay.failure?.message, /rank 0 heard rank 3 first/, `deepening ${deepening}: ${a.failure!.schedule} replays`);
  }
  // Found at the first execution that deviates once: the fewest deviations first.
  const rounds = await explore({ n: 4, strategy: 'dpor', timing: 'async' }, gather(true));
  t.equal(rounds.failure!.schedule.split(',').length, 1, `one deviation: ${rounds.failure!.schedule}`);
  // The budget stops it, not exhausted.
  const cut = await explore({ n: 4, strategy: 'dpor', timing: 'async', executions: 2, deepening: false }, gather(false));
  t.same([cut.executions, cut.exhausted], [2, false], 'stopped by the budget of 2 executions');
});

t.test('dpor explores a timer its rank cancels: the timeout that fires before the reply', async (t) => {
  // Rank 1 answers rank 0's request; rank 0 waits with a timeout and wrongly assumes it never fires
  // (at n = 2, no ring beside them).
  const run = timeoutBesideRing(0);
  for (const timing of ['async', 'bounded'] as const) {
    const seeded = await explore({ n: 2, strategy: 'dpor', timing, executions: 1 }, run);
    t.notOk(seeded.failure, `${timing}: the simulator's own order answers in time`);
  }
  for (const deepening of [true, false]) {
    const r = await explore({ n: 2, strategy: 'dpor', timing: 'async', deepening }, run);
    t.match(r.failure?.message, /rank 0 timed out/, `async, deepening ${deepening}: the timeout ahead of the reply is found`);
  }
});

t.test('a wrong dependence misses outcomes: the relation is what makes the reduction sound', async (t) => {
  const wrong: Array<[string, (e: SimEvent) => number, number]> = [
    // Each link a rank of its own: all four deliveries independent, one execution.
    ['every delivery independent', (e) => (e.id?.from ?? 0) * 2 + (e.id?.rank ?? 0) - 4, 1],
    // Events of one sender dependent, not those of one receiver: a sender's two messages reordered, never two senders'.
    ['dependence by sender', (e) => e.id?.from ?? -1, 2],
  ];
  for (const [name, touches, outcomes] of wrong) {
    const reduced = twoReceivers();
    const r = await exploreWith(new Dpor(4, 0, touches, false), { n: 4, strategy: 'dpor', timing: 'async' }, reduced.run);
    t.equal(r.exhausted, true, `${name}: exhausted`);
    t.equal(new Set(reduced.seen).size, outcomes, `${name}: ${outcomes} of the 4 outcomes`);
  }
});

t.test('dpor with a scheduled crash: a fault depends on every event, and the outcomes are those of every interleaving', async (t) => {
  // Ranks 1 and 2 each send rank 0 one message; rank 2 crashes at 0.2 ms; rank 0 records what each receive gave.
  const outcomes = (): { seen: Set<string>; run: () => ExploreRun<string[]> } => {
    const seen = new Set<string>();
    const run = (): ExploreRun<string[]> => ({
      main: async (comm: Communicator) => {
        if (comm.rank !== 0) {
          await comm.send(comm.rank, 0);
          return [];
        }
        const got: string[] = [];
        for (let i = 0; i < 2; i++) {
          try {
            got.push(String((await comm.recv()).source));
          } catch (err) {
            got.push((err as { code?: string }).code ?? 'error');
          }
        }
        return got;
      },
      check: (result) => void seen.add(JSON.stringify(result?.results ?? 'failed')),
    });
    return { seen, run };
  };
  const faults = { crashes: [{ rank: 2, atMs: 0.2 }] };
  const full = outcomes();
  const every = await explore({ n: 3, strategy: 'dfs', timing: 'async', faults }, full.run);
  const reduced = outcomes();
  const r = await explore({ n: 3, strategy: 'dpor', timing: 'async', deepening: false, faults }, reduced.run);
  t.equal(every.exhausted && r.exhausted, true, 'both exhausted');
  t.ok(r.executions <= every.executions, `${r.executions} executions, dfs ${every.executions}`);
  t.same([...reduced.seen].sort(), [...full.seen].sort(), `the same outcomes: ${[...full.seen].join(' ')}`);
});

t.test('dpor in rounds of deviations: a timer fired ahead of many messages costs 1, not its place among them', async (t) => {
  const run = timeoutBesideRing(5);
  const byDelays = await explore({ n: 5, strategy: 'dpor', timing: 'async' }, run);
  const byDeviations = await explore({ n: 5, strategy: 'dpor', timing: 'async', roundCost: 'deviations' }, run);
  for (const r of [byDelays, byDeviations]) t.match(r.failure?.message, /rank 0 timed out/, 'found');
  t.ok(byDelays.rounds!.length - 1 > 1, `counting delays: found at bound ${byDelays.rounds!.length - 1}, the timer's place in the offer`);
  t.equal(byDeviations.rounds!.length - 1, 1, `counting deviations: found at bound 1 (rounds ${byDeviations.rounds!.join(', ')})`);
  t.ok(
    byDeviations.failure!.foundAfter < byDelays.failure!.foundAfter,
    `in fewer executions: ${byDeviations.failure!.foundAfter} against ${byDelays.failure!.foundAfter}`,
  );
  const again = await explore({ n: 5, strategy: 'dpor', timing: 'async', roundCost: 'deviations' }, run);
  t.same(
    [again.failure!.foundAfter, again.failure!.schedule],
    [byDeviations.failure!.foundAfter, byDeviations.failure!.schedule],
    'the same execution and counterexample again',
  );
  const replay = await explore({ n: 5, strategy: 'dpor', timing: 'async', schedule: byDeviations.failure!.schedule }, run);
  t.match(replay.failure?.message, /rank 0 timed out/, `${byDeviations.failure!.schedule} replays`);
  await t.rejects(
    explore({ n: 5, strategy: 'dpor', roundCost: 'preemptions' as 'delays' }, run),
    /roundCost must be delays or deviations, got preemptions/,
    'a bad value is refused with the option’s name',
  );
  await t.rejects(
    explore({ n: 5, strategy: 'pct', roundCost: 'deviations' }, run),
    /roundCost 'deviations' is for the searches in rounds \(delay-bounding, dpor\), not pct/,
    'and so is a strategy without rounds',
  );
});

t.test('dpor shallow first: a round takes its early deviations before the late ones, and still covers every trace', async (t) => {
  const run = timeoutBesideRing(20);
  const options = { n: 5, strategy: 'dpor', timing: 'async', roundCost: 'deviations' } as const;
  const deepFirst = await explore(options, run);
  const shallow = await explore({ ...options, shallowFirst: 8 }, run);
  t.equal(shallow.failure!.schedule, deepFirst.failure!.schedule, `the same counterexample, ${shallow.failure!.schedule}`);
  t.same([shallow.rounds!.length, deepFirst.rounds!.length], [2, 2], 'both at bound 1');
  t.ok(
    shallow.failure!.foundAfter < deepFirst.failure!.foundAfter,
    `in fewer executions: ${shallow.failure!.foundAfter} against ${deepFirst.failure!.foundAfter} (the ring's later steps are the round's last pass)`,
  );
  // The last round is the whole search: the same traces and outcomes as without.
  for (const timing of ['async', 'bounded'] as const) {
    const plain = twoReceivers();
    const byPasses = twoReceivers();
    const a = await explore({ n: 4, strategy: 'dpor', timing }, plain.run);
    const b = await explore({ n: 4, strategy: 'dpor', timing, shallowFirst: 1 }, byPasses.run);
    t.equal(b.exhausted, true, `${timing}: exhausted`);
    // Its passes count in their round: the last pass of the last round is the plain search's last round.
    t.ok(
      b.rounds!.at(-1)! >= a.rounds!.at(-1)!,
      `${timing}: its last round (${b.rounds!.join(', ')}) holds the whole search (${a.rounds!.join(', ')})`,
    );
    t.same([...new Set(byPasses.seen)].sort(), [...new Set(plain.seen)].sort(), `${timing}: the same outcomes`);
  }
  await t.rejects(explore({ ...options, shallowFirst: 0 }, run), /shallowFirst must be an integer >= 1, got 0/, 'a bad value is refused');
  await t.rejects(
    explore({ n: 5, strategy: 'pct', shallowFirst: 8 }, run),
    /shallowFirst is for the searches in rounds \(delay-bounding, dpor\), not pct/,
    'and a strategy without rounds',
  );
});
