import t from 'tap';
import type { Communicator } from 'dsmpi';
import { explore, formatSchedule, parseSchedule, type ExploreOptions, type ExploreRun } from 'dsmpi/explore';
import { eventLabel } from '../../runtime/sim/event-queue.ts';
import { exploreWith, strategyFor } from '../../runtime/sim/explore/explore.ts';
import { touched, type Strategy } from '../../runtime/sim/explore/strategies.ts';

/** Why a receive failed, or what it got. */
async function attempt<T>(op: () => Promise<T>): Promise<T | string> {
  try {
    return await op();
  } catch (err) {
    return (err as { code?: string }).code ?? 'error';
  }
}

/**
 * Rank 0 hands a value to rank 1, waits for its acknowledgement, then hands it to rank 2; ranks 1
 * and 2 answer with what they got ('none' if rank 0 was lost first). If `buggy`, the check wrongly
 * assumes ranks 1 and 2 always end with the same answer: false only if rank 0 crashes after its
 * message to rank 1 and before the one to rank 2. `outcomes` gets every execution's answers.
 */
function relay(buggy: boolean, outcomes: Set<string> = new Set()): () => ExploreRun<string> {
  return () => ({
    main: async (comm: Communicator) => {
      if (comm.rank === 0) {
        await attempt(() => comm.send('v', 1));
        await attempt(() => comm.recv(1));
        await attempt(() => comm.send('v', 2));
        return 'sent';
      }
      const got = await attempt(() => comm.recv(0));
      if (comm.rank === 1 && typeof got !== 'string') await attempt(() => comm.send('ack', 0));
      return typeof got === 'string' ? 'none' : String(got.data);
    },
    check: (result) => {
      // Under async timing a deadlock is no failure, and leaves no result.
      outcomes.add(result ? JSON.stringify(result.results) : 'deadlock');
      const answers = result?.results ?? [];
      if (buggy && answers[1] !== undefined && answers[2] !== undefined && answers[1] !== answers[2])
        throw new Error(`rank 1 got ${answers[1]}, rank 2 got ${answers[2]}`);
    },
  });
}

t.test('delay bounding finds a bug that needs one crash with crashes: 1, and proves its absence with crashes: 0', async (t) => {
  const none = await explore({ n: 3, strategy: 'delay-bounding', delays: 2 }, relay(true));
  t.equal(none.failure, undefined, 'no failure without crashes');
  t.equal(none.exhausted, true, 'exhausted');
  const r = await explore({ n: 3, strategy: 'delay-bounding', delays: 2, crashes: 1 }, relay(true));
  t.match(r.failure?.message, /rank 1 got v, rank 2 got none/, 'found with one crash');
  const schedule = parseSchedule(r.failure!.schedule);
  t.same(
    [...schedule.values()].map((c) => c.fault),
    [{ kind: 'crash', rank: 0 }],
    `1-minimal: one deviation, the crash of rank 0 (${r.failure!.schedule})`,
  );
  t.equal(r.rounds!.length, 2, `in the round of one deviation (rounds ${r.rounds!.join(', ')})`);
  for (const other of [
    { strategy: 'delay-bounding', sleepSets: true },
    { strategy: 'dfs', delays: 2 },
    { strategy: 'dpor' },
    { strategy: 'dpor', deepening: false },
  ] as const) {
    const found = await explore({ n: 3, crashes: 1, ...other }, relay(true));
    t.match(found.failure?.schedule, /^\d+:c0$/, `${JSON.stringify(other)}: found too, as one crash (${found.failure?.schedule})`);
  }
  // The line replays, with no crash budget given: the schedule names its faults.
  const replay = await explore({ n: 3, strategy: 'delay-bounding', schedule: r.failure!.schedule }, relay(true));
  t.match(replay.failure?.message, /rank 1 got v, rank 2 got none/, `${r.failure!.schedule} replays`);
  process.env.DSMPI_SCHEDULE = r.failure!.schedule;
  try {
    const env = await explore({ n: 3, strategy: 'random' }, relay(true));
    t.match(env.failure?.message, /rank 1 got v, rank 2 got none/, 'and replays from DSMPI_SCHEDULE');
  } finally {
    delete process.env.DSMPI_SCHEDULE;
  }
});

/**
 * Rank 0 asks rank 1 to commit and waits 50 ms for its acknowledgement, aborting without it; rank 1
 * commits if the request comes within 200 ms. If `buggy`, the check wrongly assumes they never end
 * apart: false only if the acknowledgement is lost, as a partition can make it.
 */
function commit(buggy: boolean): () => ExploreRun<string> {
  return () => ({
    main: async (comm: Communicator) => {
      if (comm.rank === 0) {
        await attempt(() => comm.send('commit?', 1));
        const ack = await attempt(() => comm.recv(1, 0, { timeoutMs: 50 }));
        return typeof ack === 'string' ? 'abort' : 'commit';
      }
      const request = await attempt(() => comm.recv(0, 0, { timeoutMs: 200 }));
      if (typeof request === 'string') return 'abort';
      await attempt(() => comm.send('ack', 0));
      return 'commit';
    },
    check: (result) => {
      const [coordinator, participant] = result!.results;
      if (buggy && coordinator !== participant) throw new Error(`rank 0 ended with ${coordinator}, rank 1 with ${participant}`);
    },
  });
}

t.test('a bug that needs one partition: found with partitions: 1, in either shape, and not with 0', async (t) => {
  const none = await explore({ n: 2, strategy: 'delay-bounding', delays: 2 }, commit(true));
  t.same([none.failure, none.exhausted], [undefined, true], 'exhausted without a failure with no partition');
  const noCrash = await explore({ n: 2, strategy: 'delay-bounding', delays: 2, crashes: 0, partitions: 0 }, commit(true));
  t.same([noCrash.failure, noCrash.exhausted], [undefined, true], 'and with budgets of 0');
  for (const [shape, fault] of [
    ['isolate', /^\d+:p[01]$/],
    ['one-way', /^\d+:p1>0$/],
  ] as const) {
    const r = await explore({ n: 2, strategy: 'delay-bounding', delays: 2, partitions: 1, partitionShape: shape }, commit(true));
    t.match(r.failure?.message, /rank 0 ended with abort, rank 1 with commit/, `${shape}: found`);
    t.match(r.failure!.schedule, fault, `${shape}: 1-minimal, one partition (${r.failure!.schedule})`);
    const replay = await explore({ n: 2, strategy: 'dfs', partitionShape: shape, schedule: r.failure!.schedule }, commit(true));
    t.match(replay.failure?.message, /rank 0 ended with abort/, `${shape}: ${r.failure!.schedule} replays`);
  }
  // Healed before the acknowledgement is sent, a partition changes nothing: the same search finds no bug.
  const healed = await explore(
    { n: 2, strategy: 'delay-bounding', delays: 2, partitions: 1, partitionShape: 'one-way', partitionMs: 0.05 },
    commit(true),
  );
  t.same([healed.failure?.message, healed.exhausted], [undefined, true], 'a partition of 50 µs heals before the acknowledgement goes');
});

t.test('dpor, dfs and delay bounding reach the same outcomes with one crash', async (t) => {
  for (const restartAfterMs of [undefined, 5]) {
    const what = restartAfterMs === undefined ? 'crash-stop' : `crash-recovery after ${restartAfterMs} ms`;
    const base = { n: 3, timing: 'async', crashes: 1, restartAfterMs } as const;
    const without = new Set<string>();
    await explore({ ...base, crashes: 0, strategy: 'dfs' }, relay(false, without));
    const every = new Set<string>();
    const dfs = await explore({ ...base, strategy: 'dfs' }, relay(false, every));
    const bounded = new Set<string>();
    const db = await explore({ ...base, strategy: 'delay-bounding', delays: 8 }, relay(false, bounded));
    const reduced = new Set<string>();
    const dpor = await explore({ ...base, strategy: 'dpor', deepening: false }, relay(false, reduced));
    const rounds = new Set<string>();
    const dporRounds = await explore({ ...base, strategy: 'dpor' }, relay(false, rounds));
    t.ok(dfs.exhausted && db.exhausted && dpor.exhausted && dporRounds.exhausted, `${what}: every search exhausted`);
    t.ok(every.size > without.size, `${what}: the crash adds outcomes (${without.size} without, ${every.size} with)`);
    const sorted = (s: Set<string>): string[] => [...s].sort();
    t.same(sorted(bounded), sorted(every), `${what}: delay bounding reaches dfs's ${every.size} outcomes`);
    t.same(sorted(reduced), sorted(every), `${what}: dpor too, in ${dpor.executions} executions (dfs ${dfs.executions})`);
    t.same(sorted(rounds), sorted(every), `${what}: dpor in rounds too`);
    // Crash-stop, dfs's 25 executions are 25 traces, all of which dpor runs (24 before the step ending
    // a run raced with what it leaves pending); with a restart, dfs repeats 3 of its 18 traces.
    t.ok(dpor.executions <= dfs.executions, `${what}: dpor runs no more executions than dfs`);
  }
});

t.test('random walk, PCT and PCTCP take crashes and partitions, never more than the budget in an execution', async (t) => {
  for (const strategy of ['random', 'pct', 'pctcp'] as const) {
    const taken: Array<{ crashes: number; partitions: number }> = [];
    const crashed: number[] = [];
    const inner = strategyFor({ n: 3, strategy, seed: 3, crashes: 1, partitions: 1 });
    const counting: Strategy = {
      name: inner.name,
      exhausted: false,
      next: () => inner.next(),
      done: (steps) => {
        const count = (kind: string): number => steps.filter((s) => s.choice.fault?.kind === kind).length;
        taken.push({ crashes: count('crash'), partitions: count('partition') });
        inner.done(steps);
      },
    };
    const run = (): ExploreRun<string> => ({
      ...relay(false)(),
      check: (result) => void (result && crashed.push(result.crashed.length)),
    });
    const r = await exploreWith(counting, { n: 3, strategy, crashes: 1, partitions: 1, executions: 200, liveness: false }, run);
    t.equal(r.executions, 200, `${strategy}: 200 executions`);
    t.equal(Math.max(...taken.map((x) => x.crashes)), 1, `${strategy}: at most one crash in any execution`);
    t.equal(Math.max(...taken.map((x) => x.partitions)), 1, `${strategy}: at most one partition`);
    t.ok(Math.max(...crashed) <= 1, `${strategy}: the simulator saw at most one crash-stop`);
    const some = (k: 'crashes' | 'partitions'): number => taken.filter((x) => x[k] > 0).length;
    t.ok(some('crashes') > 0 && some('crashes') < 200, `${strategy}: a crash in ${some('crashes')} of 200`);
    t.ok(some('partitions') > 0 && some('partitions') < 200, `${strategy}: a partition in ${some('partitions')} of 200`);
  }
});

t.test('random walk, PCT and PCTCP take pauses, never more than the budget in an execution', async (t) => {
  for (const strategy of ['random', 'pct', 'pctcp'] as const) {
    const paused: number[] = [];
    const inner = strategyFor({ n: 3, strategy, seed: 3, pauses: 1 });
    const counting: Strategy = {
      name: inner.name,
      exhausted: false,
      next: () => inner.next(),
      done: (steps) => {
        paused.push(steps.filter((s) => s.choice.fault?.kind === 'pause').length);
        inner.done(steps);
      },
    };
    const r = await exploreWith(counting, { n: 3, strategy, pauses: 1, executions: 200, liveness: false }, relay(false));
    t.equal(r.executions, 200, `${strategy}: 200 executions`);
    t.equal(Math.max(...paused), 1, `${strategy}: at most one pause in any execution`);
    const some = paused.filter((x) => x > 0).length;
    t.ok(some > 0 && some < 200, `${strategy}: a pause in ${some} of 200`);
  }
});

t.test('minimization keeps only the fault the bug needs', async (t) => {
  // A random walk with room for two crashes and a partition finds the bug with more faults than it needs.
  const options = { n: 3, strategy: 'random', seed: 1, crashes: 2, partitions: 1, liveness: false } as const;
  const raw = await explore({ ...options, minimize: false }, relay(true));
  const faults = (schedule: string): number => [...parseSchedule(schedule).values()].filter((c) => c.fault).length;
  t.ok(faults(raw.failure!.schedule) > 1, `found with ${faults(raw.failure!.schedule)} faults: ${raw.failure!.schedule}`);
  const r = await explore(options, relay(true));
  t.equal(r.failure!.foundAfter, raw.failure!.foundAfter, 'the same search');
  t.match(r.failure!.schedule, /^\d+:c0$/, `minimized to the one crash it needs: ${r.failure!.schedule}`);
  const replay = await explore({ n: 3, strategy: 'random', schedule: r.failure!.schedule }, relay(true));
  t.match(replay.failure?.message, /rank 1 got v, rank 2 got none/, 'and it replays');
});

t.test('bad fault options are refused, naming the option', async (t) => {
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ crashes: -1 }, /crashes must be an integer >= 0, got -1/],
    [{ partitions: 1.5 }, /partitions must be an integer >= 0, got 1.5/],
    [{ restartAfterMs: -2 }, /restartAfterMs must be a finite number >= 0, got -2/],
    [{ partitionMs: 0 }, /partitionMs must be a number > 0/],
    [{ partitionShape: 'ring' }, /partitionShape must be isolate or one-way, got ring/],
    // A schedule's faults must name ranks the run has.
    [{ schedule: '0:c9' }, /step 0 names rank 9, past the 3 ranks of the run \(0\.\.2\)/],
    [{ schedule: '1:p0>3' }, /step 1 names rank 3, past the 3 ranks/],
    [{ schedule: '2:p1>1' }, /step 2 cuts the link from rank 1 to itself/],
  ];
  for (const [options, message] of bad)
    await t.rejects(explore({ n: 3, strategy: 'dfs', ...options }, relay(false)), message, JSON.stringify(options));
  t.throws(() => parseSchedule('3:c1>2'), /"3:c1>2" is not step:index/, 'a crash names one rank');
  t.same(
    [...parseSchedule('3:1,4:0x,5:c2,6:p1,7:p0>2').values()],
    [
      { index: 1, lose: false },
      { index: 0, lose: true },
      { index: 0, lose: false, fault: { kind: 'crash', rank: 2 } },
      { index: 0, lose: false, fault: { kind: 'partition', rank: 1 } },
      { index: 0, lose: false, fault: { kind: 'partition', rank: 0, to: 2 } },
    ],
    'old entries parse as before, faults beside them',
  );
  t.equal(formatSchedule(parseSchedule('7:p0>2,5:c2,3:1,4:0x,6:p1')), '3:1,4:0x,5:c2,6:p1,7:p0>2', 'and print back');
});

/**
 * The Mazurkiewicz trace of each complete execution a strategy runs (each rank's sequence of events,
 * a fault on every rank's), and how many complete executions it ran.
 */
async function traces(options: ExploreOptions, run: () => ExploreRun<string>): Promise<{ traces: Set<string>; complete: number }> {
  const inner = strategyFor(options);
  const found = new Set<string>();
  let complete = 0;
  let cut = false;
  const watching: Strategy = {
    name: inner.name,
    get exhausted() {
      return inner.exhausted;
    },
    next: () => {
      const plan = inner.next();
      cut = false;
      return plan && { ...plan, choose: (...args) => plan.choose(...args) ?? void (cut = true) };
    },
    done: (steps) => {
      if (!cut) {
        const chains: string[][] = Array.from({ length: options.n }, () => []);
        for (const { choice, events } of steps) {
          const key = choice.fault ? formatSchedule(new Map([[0, choice]])) : eventLabel(events[choice.index]);
          const rank = choice.fault ? -1 : touched(events[choice.index]);
          chains.forEach((chain, r) => (rank < 0 || rank === r) && chain.push(key));
        }
        found.add(JSON.stringify(chains));
        complete++;
      }
      inner.done(steps);
    },
  };
  await exploreWith(watching, options, run);
  return { traces: found, complete };
}

t.test('dpor runs every trace when a run ends with events pending (chosen or scheduled faults)', async (t) => {
  // Rank 0 sends ranks 1 and 2 a message each. A crash leaves a delivery to the crashed rank, or news
  // of the crash, pending when the others finish: the run's last step disabled them.
  const run = (): ExploreRun<string> => ({
    main: async (comm: Communicator) => {
      if (comm.rank > 0) return String(await attempt(async () => (await comm.recv(0)).data));
      for (const to of [1, 2]) await attempt(() => comm.send('v', to));
      return 'sent';
    },
  });
  const cases: [string, Omit<ExploreOptions, 'strategy'>, () => ExploreRun<string>, number][] = [
    ['one chosen crash', { n: 3, timing: 'async', crashes: 1, liveness: false }, run, 21],
    ['a chosen crash and partition', { n: 3, timing: 'async', crashes: 1, partitions: 1, liveness: false }, run, 561],
    ['a crash of the plan', { n: 3, timing: 'async', faults: { crashes: [{ rank: 1, atMs: 0.3 }] }, liveness: false }, run, 14],
    ['the relay, one chosen crash', { n: 3, timing: 'async', crashes: 1 }, relay(false), 25],
  ];
  for (const [what, base, program, count] of cases) {
    const every = await traces({ ...base, strategy: 'dfs' }, program);
    const reduced = await traces({ ...base, strategy: 'dpor', deepening: false }, program);
    const missed = [...every.traces].filter((x) => !reduced.traces.has(x));
    t.equal(every.traces.size, count, `${what}: dfs runs ${count} traces`);
    t.equal(reduced.complete, reduced.traces.size, `${what}: dpor one complete execution per trace`);
    // Before the ending step raced with the events it left pending: 20 of 21, 546 of 561, 13 of 14, 24 of 25.
    t.same(missed.length, 0, `${what}: dpor runs every one of them (missed ${missed.slice(0, 2).join(' ')})`);
  }
});

/**
 * A lease: rank 0 holds it for 20 ms, works 5 ms, then writes to rank 2; rank 1 takes the lease over
 * once it has expired, after 50 ms, and writes too. If `buggy`, rank 0 writes on its belief from
 * before the work without looking at the clock again: a stale write, after rank 1's, only if rank 0
 * is paused past the lease, as a pause can make it.
 */
function lease(buggy: boolean): () => ExploreRun<string> {
  return () => ({
    main: async (comm: Communicator) => {
      if (comm.rank === 0) {
        const expires = comm.clock.now() + 20;
        await comm.clock.sleep(5);
        if (!buggy && comm.clock.now() >= expires) return 'expired';
        await attempt(() => comm.send('write 0', 2));
        return 'wrote';
      }
      if (comm.rank === 1) {
        await comm.clock.sleep(50);
        await attempt(() => comm.send('write 1', 2));
        return 'wrote';
      }
      const first = await attempt(() => comm.recv());
      const second = await attempt(() => comm.recv(undefined, undefined, { timeoutMs: 500 }));
      return [first, second].map((m) => (typeof m === 'string' ? m : String(m.data))).join(', ');
    },
    check: (result) => {
      if (result?.results[2]?.startsWith('write 1, write 0')) throw new Error(`rank 2 got ${result.results[2]}: a stale leaseholder wrote`);
    },
  });
}

t.test('a bug that needs one pause: found with pauses: 1, 1-minimal, replayed, and not without', async (t) => {
  const none = await explore({ n: 3, strategy: 'delay-bounding', delays: 2 }, lease(true));
  t.same([none.failure?.message, none.exhausted], [undefined, true], 'exhausted without a failure with no pause');
  const r = await explore({ n: 3, strategy: 'delay-bounding', delays: 2, pauses: 1 }, lease(true));
  t.match(r.failure?.message, /rank 2 got write 1, write 0: a stale leaseholder wrote/, 'found with one pause');
  t.same(
    [...parseSchedule(r.failure!.schedule).values()].map((c) => c.fault),
    [{ kind: 'pause', rank: 0 }],
    `1-minimal: one deviation, the pause of rank 0 (${r.failure!.schedule})`,
  );
  t.equal(r.rounds!.length, 2, `in the round of one deviation (rounds ${r.rounds!.join(', ')})`);
  for (const other of [{ strategy: 'dfs', delays: 2 }, { strategy: 'dpor' }] as const) {
    const found = await explore({ n: 3, pauses: 1, ...other }, lease(true));
    t.match(found.failure?.schedule, /^\d+:s0$/, `${JSON.stringify(other)}: found too, as one pause (${found.failure?.schedule})`);
  }
  // A random walk with room for two pauses and a partition: its counterexample minimized to the one pause.
  const options = { n: 3, strategy: 'random', seed: 1, pauses: 2, partitions: 1, liveness: false } as const;
  const raw = await explore({ ...options, minimize: false }, lease(true));
  const faults = (schedule: string): number => [...parseSchedule(schedule).values()].filter((c) => c.fault).length;
  t.ok(faults(raw.failure!.schedule) > 1, `random walk: found with ${faults(raw.failure!.schedule)} faults: ${raw.failure!.schedule}`);
  const minimized = await explore(options, lease(true));
  t.match(minimized.failure!.schedule, /^\d+:s0$/, `minimized to the one pause it needs: ${minimized.failure!.schedule}`);
  const replay = await explore({ n: 3, strategy: 'delay-bounding', schedule: r.failure!.schedule }, lease(true));
  t.match(replay.failure?.message, /a stale leaseholder wrote/, `${r.failure!.schedule} replays with no pause budget`);
  // Paused for less than the lease has left, rank 0 writes in time: nothing to find.
  const short = await explore({ n: 3, strategy: 'delay-bounding', delays: 2, pauses: 1, pauseMs: 10 }, lease(true));
  t.same([short.failure?.message, short.exhausted], [undefined, true], 'a pause of 10 ms finds nothing');
  // Rank 0 looking at the clock after its work: no pause breaks it.
  const fixed = await explore({ n: 3, strategy: 'delay-bounding', delays: 2, pauses: 1 }, lease(false));
  t.same([fixed.failure?.message, fixed.exhausted], [undefined, true], 'the fixed lease survives every pause');
  t.same(
    [...parseSchedule('3:s2,4:c1').values()].map((c) => c.fault),
    [
      { kind: 'pause', rank: 2 },
      { kind: 'crash', rank: 1 },
    ],
    's2 parses as a pause',
  );
  t.equal(formatSchedule(parseSchedule('4:c1,3:s2')), '3:s2,4:c1', 'and prints back');
  t.throws(() => parseSchedule('3:s1>2'), /"3:s1>2" is not step:index/, 'a pause names one rank');
  await t.rejects(explore({ n: 3, strategy: 'dfs', pauses: -1 }, lease(false)), /pauses must be an integer >= 0, got -1/);
  await t.rejects(explore({ n: 3, strategy: 'dfs', pauseMs: 0 }, lease(false)), /pauseMs must be a finite number > 0, got 0/);
});
