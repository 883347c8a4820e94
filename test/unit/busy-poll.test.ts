// BusyPoll keeps the event loop turning while something waits, and stops when the wait ends or its
// budget runs out (runtime/transport/busy-poll.ts).
import t from 'tap';
import { BusyPoll } from '../../runtime/transport/busy-poll.ts';

/** Timing that never takes a loaded machine for a descheduled poller. */
const steady = (budgetMs: number) => ({ budgetMs, preemptedMs: Infinity });

/** Resolves once `done()` holds, checked at every turn of the event loop (up to 4 s). */
async function until(done: () => boolean): Promise<void> {
  const limit = performance.now() + 4000;
  while (!done()) {
    if (performance.now() > limit) throw new Error('gave up after 4 s');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Resolves once `calls()` has not changed for a few event-loop turns' worth of time. */
async function settled(calls: () => number): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const before = calls();
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (calls() === before) return before;
  }
  throw new Error('still polling after 4 s');
}

t.test('polls while the wait lasts, and stops when it ends', async (t) => {
  let waiting = true;
  let calls = 0;
  const poll = new BusyPoll(() => {
    calls++;
    return waiting;
  }, steady(60_000));
  poll.kick();
  await until(() => calls >= 5);
  t.pass('it turns the loop again and again while the wait lasts');
  waiting = false;
  const after = await settled(() => calls);
  await new Promise((resolve) => setTimeout(resolve, 30));
  t.equal(calls, after, 'no polling once nothing waits');
});

t.test('stops after its budget though the wait goes on; a new wait starts it again', async (t) => {
  let calls = 0;
  const poll = new BusyPoll(() => {
    calls++;
    return true;
  }, steady(10));
  poll.kick();
  const first = await settled(() => calls);
  t.ok(first >= 1, 'it polled, then stopped though the wait went on');
  poll.kick();
  await settled(() => calls);
  t.ok(calls > first, 'a new wait polls again');
});

t.test('kicks during a poll do not start a second chain', async (t) => {
  let calls = 0;
  let waiting = true;
  const poll = new BusyPoll(() => {
    calls++;
    return waiting;
  }, steady(60_000));
  for (let i = 0; i < 10; i++) poll.kick();
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(calls, 1, 'one turn has run one check, not ten');
  waiting = false;
  await settled(() => calls);
});

t.test('a long gap between turns in which the process did not run (it lost its core) pauses polling', async (t) => {
  let calls = 0;
  const poll = new BusyPoll(
    () => {
      calls++;
      if (calls === 3) {
        // The next turn comes late, and (as the off-core clock below says) the process did not run meanwhile.
        const until = performance.now() + 5;
        while (performance.now() < until);
      }
      return true;
    },
    { budgetMs: 60_000, preemptedMs: 2, firstPauseMs: 60_000, backoffMs: 60_000, offCoreMs: () => performance.now() },
  );
  poll.kick();
  const stopped = await settled(() => calls);
  t.ok(stopped >= 1, 'it polled, then saw a gap (this one, or the load of the machine)');
  t.ok(poll.paused, 'polling is paused');
  t.equal(poll.kick(), false, 'kick says the chain does not run');
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(calls, stopped, 'a wait during the pause does not poll');
});

t.test('a long gap the process spent working (a collection, a compilation) does not pause polling', async (t) => {
  let calls = 0;
  let waiting = true;
  const poll = new BusyPoll(
    () => {
      calls++;
      if (calls % 3 === 0) {
        const until = performance.now() + 5;
        while (performance.now() < until);
      }
      return waiting;
    },
    // Every millisecond of the gaps was the process's own CPU time.
    { budgetMs: 60_000, preemptedMs: 2, firstPauseMs: 60_000, backoffMs: 60_000, offCoreMs: () => 0 },
  );
  poll.kick();
  await until(() => calls >= 12);
  t.notOk(poll.paused, 'four gaps of 5 ms, all spent working: not paused');
  t.ok(poll.active, 'the chain still runs');
  waiting = false;
  await settled(() => calls);
});

t.test('hooks: `turn` runs at every turn, `stopped` once when the chain stops', async (t) => {
  let turns = 0;
  let checks = 0;
  let stops = 0;
  let waiting = true;
  const poll = new BusyPoll(
    () => {
      checks++;
      return waiting;
    },
    steady(60_000),
    { turn: () => turns++, stopped: () => stops++ },
  );
  t.equal(poll.kick(), true, 'the chain runs');
  t.equal(poll.active, true);
  await until(() => turns >= 5);
  t.equal(stops, 0, 'not stopped while the wait lasts');
  waiting = false;
  await until(() => stops > 0);
  t.equal(poll.active, false, 'the chain has stopped');
  t.equal(turns, checks, 'each turn ran the hook once, before its check');
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(stops, 1, 'stopped once');
});

t.test('the off-core clock (a system call) is read now and then, not at every turn', async (t) => {
  let turns = 0;
  let reads = 0;
  let waiting = true;
  const poll = new BusyPoll(
    () => {
      turns++;
      return waiting;
    },
    // Every gap was the process's own CPU time: never paused.
    {
      budgetMs: 60_000,
      preemptedMs: 50,
      offCoreMs: () => {
        reads++;
        return 0;
      },
    },
  );
  poll.kick();
  await until(() => turns >= 1000);
  waiting = false;
  await settled(() => turns);
  t.notOk(poll.paused, 'not paused');
  t.ok(reads < turns / 4, `${reads} readings of the off-core clock in ${turns} turns`);
});

t.test('a preemption during the turn hook (where a ring reader spends its turns) pauses polling too', async (t) => {
  const clock = { now: 0, offCore: 0 };
  let turns = 0;
  const poll = new BusyPoll(
    () => true,
    { budgetMs: 60_000, preemptedMs: 2, firstPauseMs: 60_000, nowMs: () => clock.now, offCoreMs: () => clock.offCore },
    {
      turn: () => {
        // The third turn's hook loses the core for 5 ms.
        if (++turns === 3) {
          clock.now += 5;
          clock.offCore += 5;
        }
      },
    },
  );
  poll.kick();
  for (let i = 0; i < 6; i++) await new Promise((resolve) => setImmediate(resolve));
  t.equal(turns, 4, 'the turn after the hook that lost its core stopped the chain');
  t.ok(poll.paused, 'paused');
  t.notOk(poll.active);
});
