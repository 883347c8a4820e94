import t from 'tap';
import type { Communicator } from 'dsmpi';
import { explore, type ExploreRun } from 'dsmpi/explore';

/**
 * Rank r sleeps (r + 1) × 10 ms and records that it woke: with no message ever in flight, the
 * timers only race each other. `orders` gets each execution's order of waking.
 */
function sleepers(orders: string[]): () => ExploreRun<void> {
  return () => {
    const woke: number[] = [];
    return {
      main: async (comm: Communicator) => {
        await comm.clock.sleep(10 * (comm.rank + 1));
        woke.push(comm.rank);
      },
      check: () => void orders.push(woke.join('')),
    };
  };
}

/**
 * Rank 1 sends rank 0 a message (1 ms) and sleeps 5 ms; `timerFirst` gets, per execution, whether
 * rank 1 woke before rank 0 had the message: a timer racing a message in flight.
 */
function timerAgainstMessage(timerFirst: boolean[]): () => ExploreRun<void> {
  return () => {
    let arrived = false;
    return {
      main: async (comm: Communicator) => {
        if (comm.rank === 0) {
          await comm.recv(1);
          arrived = true;
        } else {
          await comm.send('m', 0);
          await comm.clock.sleep(5);
          timerFirst.push(!arrived);
        }
      },
    };
  };
}

/**
 * Rank 0 waits for rank 1's message (1 ms) while it sleeps 5 ms; `timerFirst` gets, per execution,
 * whether it woke before the message arrived: a timer racing a delivery to its own rank.
 */
function ownTimerAgainstMessage(timerFirst: boolean[]): () => ExploreRun<void> {
  return () => ({
    main: async (comm: Communicator) => {
      if (comm.rank === 1) return void (await comm.send('m', 0));
      let arrived = false;
      const heard = comm.recv(1).then(() => void (arrived = true));
      await comm.clock.sleep(5);
      timerFirst.push(!arrived);
      await heard;
    },
  });
}

const faults = { delay: { minMs: 1, maxMs: 1 } };

t.test(
  'async timing: with no message in flight PCT and PCTCP fire timers in their time order; against a message, by priority',
  async (t) => {
    for (const strategy of ['pct', 'pctcp'] as const) {
      const orders: string[] = [];
      const r = await explore({ n: 3, strategy, seed: 5, executions: 40, timing: 'async', faults }, sleepers(orders));
      t.equal(r.failure, undefined);
      t.equal(orders.length, 40);
      t.same([...new Set(orders)], ['012'], `${strategy}: every execution wakes rank 0, 1, 2 in their time order`);
      const timerFirst: boolean[] = [];
      await explore({ n: 2, strategy, seed: 5, executions: 40, timing: 'async', faults }, timerAgainstMessage(timerFirst));
      t.same(
        [...new Set(timerFirst)].sort(),
        [false, true],
        `${strategy}: the timer races the message in flight, before it in some executions, after it in others`,
      );
    }
    // Bounded timing keeps the priorities where timers may fire in either order (within the timer slack).
    const orders: string[] = [];
    await explore({ n: 3, strategy: 'pct', seed: 5, executions: 40, timerSlackMs: 50, faults }, sleepers(orders));
    t.ok(new Set(orders).size > 1, `bounded timing with 50 ms of timer slack: several orders (${[...new Set(orders)].join(' ')})`);
  },
);

/**
 * Every rank sleeps 1 ms twenty times (sixty steps with nothing in flight), then rank 1 sends rank
 * 0 messages a and b, and rank 2 sends it c: rank 0 hearing a, c, b is the bug, a PCT bug of depth 2
 * over links (one change point, at the step after a, lowers link 1→0 below 2→0).
 */
function latePair(): ExploreRun<void> {
  const heard: string[] = [];
  return {
    main: async (comm: Communicator) => {
      for (let i = 0; i < 20; i++) await comm.clock.sleep(1);
      if (comm.rank === 1) {
        await comm.send('a', 0);
        await comm.send('b', 0);
      } else if (comm.rank === 2) {
        await comm.send('c', 0);
      } else {
        for (let i = 0; i < 3; i++) heard.push((await comm.recv()).data as string);
      }
    },
    always: () => {
      if (heard.join('') === 'acb') throw new Error('rank 0 heard c between a and b');
    },
  };
}

t.test('async timing: PCT draws its change points among the steps with a message in flight', async (t) => {
  // About 3 of the 63 steps race messages: a change point at the right one has a chance of about
  // 1/3 (drawn over every step, 1/63), and link 1→0 above 2→0 one of 1/2.
  const found: number[] = [];
  for (let seed = 1; seed <= 10; seed++) {
    const r = await explore({ n: 3, strategy: 'pct', depth: 2, seed, executions: 30, timing: 'async', minimize: false, faults }, latePair);
    if (!r.failure) continue;
    found.push(r.failure.foundAfter);
    t.match(r.failure.message, /rank 0 heard c between a and b/, `seed ${seed}: the bug, after ${r.failure.foundAfter} executions`);
  }
  t.ok(found.length >= 8, `found within 30 executions by ${found.length} searches of 10 (after ${found.join(', ')})`);
});

t.test(
  'async timing: a rank’s timers are a PCT thread of their own whatever the mapping, so they race the deliveries to their rank',
  async (t) => {
    for (const pctThreads of ['receiver', 'sender', 'link'] as const) {
      const timerFirst: boolean[] = [];
      await explore(
        { n: 2, strategy: 'pct', pctThreads, seed: 5, executions: 40, timing: 'async', faults },
        ownTimerAgainstMessage(timerFirst),
      );
      t.same(
        [...new Set(timerFirst)].sort(),
        [false, true],
        `${pctThreads} threads: the timer first in some executions, the message in others`,
      );
    }
    // Bounded timing keeps a timer its rank's step by receiver: the message, due first, always goes first.
    const timerFirst: boolean[] = [];
    await explore({ n: 2, strategy: 'pct', pctThreads: 'receiver', seed: 5, executions: 40, faults }, ownTimerAgainstMessage(timerFirst));
    t.same([...new Set(timerFirst)], [false], 'bounded timing: the message first');
  },
);
