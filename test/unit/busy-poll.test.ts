// BusyPoll keeps the event loop turning while something waits, and stops when the wait ends or its
// budget runs out (runtime/transport/busy-poll.ts).
import t from 'tap';
import { BusyPoll } from '../../runtime/transport/busy-poll.ts';

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
  }, 60_000);
  poll.kick();
  await new Promise((resolve) => setTimeout(resolve, 30));
  t.ok(calls > 1, `turned the loop ${calls} times while waiting`);
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
  }, 10);
  poll.kick();
  const first = await settled(() => calls);
  t.ok(first > 1, 'it polled');
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
  }, 60_000);
  for (let i = 0; i < 10; i++) poll.kick();
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(calls, 1, 'one turn has run one check, not ten');
  waiting = false;
  await settled(() => calls);
});
