import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { simulate, type Communicator } from 'dsmpi';
import { explore, parseSchedule, formatSchedule, type ExploreRun } from 'dsmpi/explore';
import { twoReceivers } from '../helpers/explore-programs.ts';

/**
 * Ranks 1 and 2 each send rank 0 one message (after sleeping `sleepMs(rank)`, if given); rank 0
 * wrongly assumes rank 1's comes first.
 */
function race(sleepMs?: (rank: number) => number): ExploreRun<void> {
  const firsts: number[] = [];
  return {
    main: async (comm: Communicator) => {
      if (comm.rank === 0) {
        firsts.push((await comm.recv()).source);
        await comm.recv();
      } else {
        if (sleepMs) await comm.clock.sleep(sleepMs(comm.rank));
        await comm.send(comm.rank, 0);
      }
    },
    always: () => {
      if (firsts.length > 0 && firsts[0] !== 1) throw new Error(`rank 0 heard rank ${firsts[0]} first`);
    },
    sometimes: { 'rank 0 heard one': () => firsts.length > 0 },
  };
}

/** The same exchange without the assumption: correct under every order. */
function noRace(): ExploreRun<void> {
  return {
    main: async (comm: Communicator) => {
      if (comm.rank === 0) {
        await comm.recv();
        await comm.recv();
      } else {
        await comm.send(comm.rank, 0);
      }
    },
  };
}

/** Seeds whose own order delivers rank 1's message first: the race hides from a seeded run. */
async function seedsHidingTheRace(): Promise<number[]> {
  const hiding: number[] = [];
  for (let seed = 1; seed <= 20; seed++) {
    const r = await explore({ n: 3, strategy: 'delay-bounding', delays: 0, seed }, race);
    if (!r.failure) hiding.push(seed);
  }
  return hiding;
}

t.test('delay bounding finds a race a seeded run misses, with one delay, and the line replays it', async (t) => {
  const [seed] = await seedsHidingTheRace();
  t.ok(seed !== undefined, 'some seed delivers rank 1 first');
  const report = await explore({ n: 3, strategy: 'delay-bounding', delays: 2, seed }, race);
  t.ok(report.failure, 'found');
  t.equal(report.failure!.code, 'DS_ERR_INVARIANT');
  t.match(report.failure!.message, /rank 0 heard rank 2 first/);
  const schedule = parseSchedule(report.failure!.schedule);
  t.equal(schedule.size, 1, `one deviation: ${report.failure!.schedule}`);
  t.equal([...schedule.values()][0].index, 1, 'one delay');
  t.equal(report.failure!.nondeterministic, false);

  const dir = mkdtempSync(join(tmpdir(), 'dsmpi-explore-'));
  const replay = await explore(
    { n: 3, strategy: 'delay-bounding', seed, schedule: report.failure!.schedule, trace: join(dir, 'a.jsonl') },
    race,
  );
  t.equal(replay.executions, 1, 'a schedule runs once');
  t.equal(replay.failure?.schedule, report.failure!.schedule, 'and fails the same way');
  t.match(readFileSync(join(dir, 'a.jsonl'), 'utf8'), /"ev":"deliver"/, 'its trace is written for dsrun view');

  process.env.DSMPI_SCHEDULE = report.failure!.schedule;
  try {
    const fromEnv = await explore({ n: 3, strategy: 'delay-bounding', seed }, race);
    t.equal(fromEnv.failure?.schedule, report.failure!.schedule, 'DSMPI_SCHEDULE replays it too');
  } finally {
    delete process.env.DSMPI_SCHEDULE;
  }
});

t.test('with no deviation the explorer runs exactly the seeded simulation', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dsmpi-explore-'));
  const main = async (comm: Communicator) => {
    for (let i = 0; i < 3; i++) {
      for (let d = 0; d < comm.size; d++) if (d !== comm.rank) await comm.send(i, d, 1);
      await comm.clock.sleep(comm.random() * 3);
    }
    for (let i = 0; i < 3 * (comm.size - 1); i++) await comm.recv(undefined, 1);
  };
  for (const seed of [3, 8]) {
    const seeded = await simulate({ n: 4, seed }, main);
    const path = join(dir, `${seed}.jsonl`);
    await explore({ n: 4, strategy: 'delay-bounding', seed, schedule: '', trace: path }, () => ({ main }));
    t.equal(readFileSync(path, 'utf8'), seeded.jsonl(), `seed ${seed}: byte for byte`);
  }
});

t.test('a correct program: delay bounding exhausts its space and says how many executions it took', async (t) => {
  // Step 0 offers both messages (index 0 or 1), step 1 the other: 2 schedules; round 1 repeats
  // round 0's one schedule on the way.
  const report = await explore({ n: 3, strategy: 'delay-bounding', delays: 1 }, noRace);
  t.equal(report.failure, undefined);
  t.equal(report.exhausted, true, 'a bounded proof');
  t.equal(report.executions, 3);
  t.equal(report.revisits, 1);
  // A lost message deadlocks this program (it is not written for loss): one drop finds it.
  const lossy = await explore({ n: 3, strategy: 'delay-bounding', delays: 0, drops: 1 }, noRace);
  t.equal(lossy.failure?.code, 'DS_ERR_DEADLOCK');
  t.match(lossy.failure!.schedule, /^\d+:0x$/, `1-minimal: a single loss (${lossy.failure!.schedule})`);
});

t.test('random walk and PCT find the race within a small budget', async (t) => {
  const hiding = await seedsHidingTheRace();
  for (const strategy of ['random', 'pct', 'pctcp'] as const) {
    let found = 0;
    for (const seed of hiding.slice(0, 5)) {
      const r = await explore({ n: 3, strategy, seed, executions: 50 }, race);
      if (r.failure) found++;
      t.equal(r.exhausted, false, `${strategy} proves nothing`);
    }
    t.ok(found >= 4, `${strategy}: found in ${found} of ${Math.min(5, hiding.length)} searches`);
  }
});

t.test('sometimes properties are counted per execution', async (t) => {
  const report = await explore({ n: 3, strategy: 'delay-bounding', delays: 1 }, () => {
    let heard = 0;
    return { ...noRace(), sometimes: { 'never true': () => false, heard: () => ++heard > 0 } };
  });
  t.same(report.sometimes, { 'never true': 0, heard: report.executions });
});

t.test('a malformed schedule and an unknown strategy are refused with a clear error', async (t) => {
  t.throws(() => parseSchedule('3:1,x'), /"x" is not step:index/);
  t.equal(formatSchedule(parseSchedule('40:0x, 17:1')), '17:1,40:0x');
  await t.rejects(
    explore({ n: 3, strategy: 'bfs' as never }, noRace),
    /strategy must be seeds, random, pct, pctcp, delay-bounding, dfs or dpor/,
  );
});

/** Ranks 1 and 2 each report to rank 0 when a timer fires (rank 1's 2 ms sooner); rank 0 assumes rank 1's report comes first. */
const timerRace = (): ExploreRun<void> => race((rank) => (rank === 1 ? 10 : 12));

t.test('timer slack: a race between two timers is searched, not left to the seed', async (t) => {
  // On time, the timers are 2 ms apart and a message takes at most 1 ms: no order of events breaks it.
  const onTime = await explore({ n: 3, strategy: 'delay-bounding', delays: 2 }, timerRace);
  t.equal(onTime.failure, undefined);
  t.equal(onTime.exhausted, true, 'exhausted with timers on time');
  // A timer may be 5 ms late: rank 2's may fire first, and its report arrive first.
  const late = await explore({ n: 3, strategy: 'delay-bounding', delays: 2, timerSlackMs: 5 }, timerRace);
  t.match(late.failure?.message, /rank 0 heard rank 2 first/);
  t.equal(late.failure!.schedule.split(',').length, 1, `one deviation: ${late.failure!.schedule}`);
  const replay = await explore({ n: 3, strategy: 'delay-bounding', timerSlackMs: 5, schedule: late.failure!.schedule }, timerRace);
  t.match(replay.failure?.message, /rank 0 heard rank 2 first/, 'and its line replays it');
  await t.rejects(explore({ n: 3, strategy: 'random', timerSlackMs: -1 }, timerRace), /timerSlackMs must be a finite number >= 0/);
});

t.test('sleep sets: one execution per order of each rank’s own events, the same outcomes as every interleaving', async (t) => {
  // Four deliveries to two receivers: 24 interleavings, 4 outcomes (test/helpers/explore-programs.ts).
  for (const timing of ['async', 'bounded'] as const) {
    const full = twoReceivers();
    const every = await explore({ n: 4, strategy: 'dfs', timing }, full.run);
    const reduced = twoReceivers();
    const por = await explore({ n: 4, strategy: 'dfs', timing, sleepSets: true }, reduced.run);
    t.equal(every.exhausted && por.exhausted, true, `${timing}: both exhausted`);
    t.equal(new Set(full.seen).size, 4, `${timing}: every interleaving reaches the 4 outcomes`);
    t.same([...new Set(reduced.seen)].sort(), [...new Set(full.seen)].sort(), `${timing}: sleep sets reach the same outcomes`);
    t.equal(
      por.executions - por.pruned,
      4,
      `${timing}: one complete execution per outcome (${por.executions} executions, ${por.pruned} cut short)`,
    );
    t.ok(por.executions < every.executions, `${timing}: ${por.executions} executions instead of ${every.executions}`);
    if (timing === 'async') t.equal(every.executions, 24, 'async: every one of the 24 interleavings');
    t.equal(every.revisits + por.revisits, 0, `${timing}: one depth-first search, no rounds to repeat`);
  }
  // The reduction keeps the races: both are still found, with one deviation.
  const [seed] = await seedsHidingTheRace();
  for (const [name, run, slack] of [
    ['race', race, 0],
    ['timer race', timerRace, 5],
  ] as const) {
    const r = await explore({ n: 3, strategy: 'delay-bounding', delays: 2, seed, sleepSets: true, timerSlackMs: slack }, run);
    t.match(r.failure?.message, /rank 0 heard rank 2 first/, `${name}: found with sleep sets`);
    t.equal(r.failure?.schedule.split(',').length, 1, `${name}: ${r.failure?.schedule}`);
  }
});

/**
 * Ranks 1 and 2 play `rounds` rounds of ping-pong (one causal chain of deliveries) while rank 3 sends
 * rank 0 one message (a chain of its own); `order` records where among the deliveries rank 0's fell.
 */
function chains(rounds: number): ExploreRun<void> & { position: () => number } {
  const order: string[] = [];
  return {
    main: async (comm: Communicator) => {
      if (comm.rank === 0) {
        await comm.recv();
        order.push('x');
      } else if (comm.rank === 3) {
        await comm.send('x', 0);
      } else {
        const peer = 3 - comm.rank;
        for (let i = 0; i < rounds; i++) {
          if (comm.rank === 1) await comm.send(i, peer);
          await comm.recv(peer);
          order.push('p');
          if (comm.rank === 2) await comm.send(i, peer);
        }
      }
    },
    position: () => order.indexOf('x'),
  };
}

/** Where rank 0's delivery fell in each of `executions` executions of a search. */
async function positions(strategy: 'pct' | 'pctcp', depth: number, seed: number, executions = 40): Promise<number[]> {
  const seen: number[] = [];
  await explore({ n: 4, strategy, depth, seed, executions, timing: 'async' }, () => {
    const run = chains(4);
    return { ...run, check: () => void seen.push(run.position()) };
  });
  return seen;
}

t.test('PCTCP gives priorities to causal chains: without change points a chain runs to its end', async (t) => {
  // 8 ping-pong deliveries and rank 0's: position 0 (its chain first) or 8 (last), never between.
  const d1 = await positions('pctcp', 1, 7);
  t.equal(d1.length, 40);
  t.same(
    [...new Set(d1)].sort((a, b) => a - b),
    [0, 8],
    `d = 1: only at either end (${d1.join(' ')})`,
  );
  // PCT gives priorities to ranks: the ping-pong alternates ranks 1 and 2, so rank 3's sender rank
  // ranking between them puts its message in the middle even without change points.
  const pct = await positions('pct', 1, 7);
  t.ok(
    pct.some((p) => p > 0 && p < 8),
    `PCT d = 1 interleaves (${pct.join(' ')})`,
  );
  // One change point lowers the ping-pong chain mid-way: the middle is reached.
  const d2 = await positions('pctcp', 2, 7);
  t.ok(
    d2.some((p) => p > 0 && p < 8),
    `d = 2: a change point interleaves (${d2.join(' ')})`,
  );
  // Deterministic per seed; another seed draws other priorities.
  t.same(await positions('pctcp', 2, 7), d2, 'the same seed, the same executions');
  t.notSame(await positions('pctcp', 2, 8), d2, 'another seed, other executions');
});

t.test('PCTCP finds the race and its line replays it', async (t) => {
  const [seed] = await seedsHidingTheRace();
  const report = await explore({ n: 3, strategy: 'pctcp', seed, executions: 50 }, race);
  t.match(report.strategy, /^pctcp d=3/);
  t.match(report.failure?.message, /rank 0 heard rank 2 first/);
  const again = await explore({ n: 3, strategy: 'pctcp', seed, executions: 50 }, race);
  t.same(again.failure, { ...report.failure!, secondsToFind: again.failure!.secondsToFind }, 'the same seed finds it the same way');
  const replay = await explore({ n: 3, strategy: 'pctcp', seed: report.failure!.seed, schedule: report.failure!.schedule }, race);
  t.equal(replay.executions, 1);
  t.match(replay.failure?.message, /rank 0 heard rank 2 first/, `the schedule ${report.failure!.schedule} replays it`);
});

/**
 * Rank 1 sends rank 0 one message at the start; rank 0 polls for it on a 10 ms timer and records
 * how many firings it took to find it there (a message takes at most 1 ms: on time, one). `forever`:
 * rank 0 keeps polling after it, and the run never ends.
 */
function polling(firings: number[], forever = false): (comm: Communicator) => Promise<void> {
  return async (comm) => {
    if (comm.rank === 1) return void (await comm.send('hello', 0));
    let count = 0;
    while (!comm.iprobe(1)) {
      await comm.clock.sleep(10);
      count++;
    }
    firings.push(count);
    await comm.recv(1);
    while (forever) await comm.clock.sleep(10);
  };
}

t.test('async timing: a rank’s timer goes ahead of a message due before it at most timerBudget times', async (t) => {
  for (const budget of [0, 2]) {
    const firings: number[] = [];
    let checks = 0;
    const r = await explore({ n: 2, strategy: 'random', timing: 'async', timerBudget: budget, executions: 200, seed: 3 }, () => ({
      main: polling(firings),
      check: () => void checks++,
    }));
    t.equal(r.failure, undefined);
    t.equal(r.cut, 0, 'every execution ended by itself');
    t.equal(checks, 200, 'each ended execution was checked');
    t.equal(firings.length, 200);
    t.equal(Math.max(...firings), budget + 1, `firings ahead of the message: at most ${budget}, and that many reached`);
  }
  const bounded: number[] = [];
  await explore({ n: 2, strategy: 'random', executions: 50 }, () => ({ main: polling(bounded) }));
  t.same([...new Set(bounded)], [1], 'bounded timing: the message always beats the first firing');
  const main = polling([]);
  await t.rejects(
    explore({ n: 2, strategy: 'random', timerBudget: -1 }, () => ({ main })),
    /timerBudget must be an integer >= 0/,
  );
  await t.rejects(
    explore({ n: 2, strategy: 'random', maxSteps: 0 }, () => ({ main })),
    /maxSteps must be an integer >= 1/,
  );
});

t.test('an execution cut at maxSteps is no failure, counted as cut, and its end-of-run check does not run', async (t) => {
  for (const timing of ['async', 'bounded'] as const) {
    let checks = 0;
    let steps = 0;
    const r = await explore({ n: 2, strategy: 'pct', timing, executions: 5, maxSteps: 100 }, () => ({
      main: polling([], true),
      always: () => void steps++,
      check: () => {
        checks++;
        throw new Error('an end-of-run check ran');
      },
    }));
    t.equal(r.failure, undefined, `${timing}: no failure`);
    t.equal(r.executions, 5);
    t.equal(r.cut, 5, `${timing}: every execution cut`);
    t.equal(checks, 0, `${timing}: no end-of-run check`);
    t.equal(steps, 5 * 101, `${timing}: the always invariants ran after the start and each of the 100 events`);
  }
  const r = await explore({ n: 2, strategy: 'random', timing: 'async', executions: 1 }, () => ({ main: polling([], true) }));
  t.equal(r.cut, 1, 'async timing cuts at its default cap');
  t.equal(r.failure, undefined);
});

/**
 * Rank 1 sends rank 0 its message A and rank 2 a message B, on which rank 2 sends rank 0 its
 * message C; rank 0 wrongly assumes A comes before C. Every message takes 1 ms, so the simulator's
 * own order is the send order. Under async timing the bug has depth 1 when each link is a PCT
 * thread (links 1→2 and 2→0 above 1→0), but no priority order of ranks shows it: by sender, rank 1's
 * A and B go in its own order (A first) before C exists; by receiver, A and C both wait in rank 0's
 * inbox, where A, sent first, is first.
 */
function relay(): ExploreRun<void> {
  const heard: string[] = [];
  return {
    main: async (comm: Communicator) => {
      if (comm.rank === 1) {
        await Promise.all([comm.send('A', 0), comm.send('B', 2)]);
      } else if (comm.rank === 2) {
        await comm.recv(1);
        await comm.send('C', 0);
      } else if (comm.rank === 0) {
        for (let i = 0; i < 2; i++) heard.push((await comm.recv()).data as string);
      }
    },
    always: () => {
      if (heard[0] === 'C') throw new Error('rank 0 heard C before A');
    },
  };
}

t.test('PCT over links finds a depth-1 reordering at a receiver that priorities over ranks never show', async (t) => {
  const faults = { delay: { minMs: 1, maxMs: 1 } };
  const search = (pctThreads: 'sender' | 'receiver' | 'link', seed: number) =>
    explore({ n: 3, strategy: 'pct', depth: 1, pctThreads, seed, executions: 30, timing: 'async', minimize: false, faults }, relay);
  for (const seed of [1, 2, 3]) {
    for (const threads of ['sender', 'receiver'] as const) {
      const r = await search(threads, seed);
      t.equal(r.failure, undefined, `seed ${seed}, ${threads} threads: 30 executions, never`);
      t.equal(r.executions, 30);
    }
    const link = await search('link', seed);
    t.match(link.failure?.message, /heard C before A/, `seed ${seed}, link threads: found after ${link.failure?.foundAfter}`);
    t.ok(link.failure!.foundAfter <= 15, 'within 15 executions (each finds it with probability 1/3)');
    t.match(link.strategy, /^pct d=1, link threads$/);
  }
  const seeds = await explore({ n: 3, strategy: 'seeds', seed: 1, executions: 30, faults }, relay);
  t.equal(seeds.failure, undefined, "random seeds' order never shows it either (two hops against one)");
  // By sender no change point helps: A and B are one thread's, which goes in the simulator's order.
  const three = await explore(
    { n: 3, strategy: 'pct', pctThreads: 'sender', depth: 3, seed: 1, executions: 30, timing: 'async', minimize: false, faults },
    relay,
  );
  t.equal(three.failure, undefined, 'by sender, not even with d = 3');
});
