// RingPoller.until: a thread rank that waits for a condition on shared memory (the world barrier's
// generation word) spins on the same chain that reads its rings, so its rings stay watched while it
// waits, and it sleeps (doorbell set) once the budget is spent (runtime/transport/ring-poller.ts).
import t from 'tap';
import { RingPoller } from '../../runtime/transport/ring-poller.ts';
import { Doorbells } from '../../runtime/transport/shared-ring.ts';
import { bellMemory } from '../../runtime/protocol/thread-rings.ts';

/** A poller of rank 0 whose rings hold `frames` frames; `read` counts the frames read. */
function poller(): { poller: RingPoller; bells: Doorbells; state: { frames: number; read: number; drains: number } } {
  const bells = new Doorbells(bellMemory(1));
  const state = { frames: 0, read: 0, drains: 0 };
  const p = new RingPoller(0, bells, () => {
    state.drains++;
    if (state.frames === 0) return false;
    state.read += state.frames;
    state.frames = 0;
    return true;
  });
  p.start();
  return { poller: p, bells, state };
}

t.test('until: the rings are read while the condition is watched, and it resolves true once it holds', async (t) => {
  const { poller: p, bells, state } = poller();
  t.ok(bells.wakeNeeded(0), 'asleep before anything waits');
  // A frame is waiting, and the condition holds once it is read: both in the same spin.
  state.frames = 1;
  const held = p.until(() => state.read === 1);
  t.notOk(bells.wakeNeeded(0), 'awake while it watches: a writer needs no wake-up');
  t.equal(await held, true, 'released once the condition holds');
  t.equal(state.read, 1, 'the frame was read without a wake-up');
  p.stop();
});

t.test('until: a condition that never holds resolves false when the budget is spent, and the rank sleeps', async (t) => {
  const { poller: p, bells, state } = poller();
  t.equal(await p.until(() => false), false, 'gave up');
  t.ok(state.drains > 1, 'the rings were read at every turn');
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  t.ok(bells.wakeNeeded(0), 'asleep: the next writer wakes it');
  p.stop();
});

t.test('until: a stopped poller does not spin', async (t) => {
  const { poller: p } = poller();
  const pending = p.until(() => false);
  p.stop();
  t.equal(await pending, false, 'a watch in progress gives up');
  t.equal(await p.until(() => true), false, 'a new watch gives up at once');
});

/**
 * A poller of rank 0 on clocks the test moves: `clock.now` (wall) and `clock.offCore` (the time its
 * thread waited for a core). `asleep()` reads its doorbell without taking it down.
 */
function pollerOnClocks() {
  const memory = bellMemory(1);
  const bells = new Doorbells(memory);
  const clock = { now: 0, offCore: 0 };
  const state = { frames: 0, read: 0, waiting: true };
  const p = new RingPoller(
    0,
    bells,
    () => {
      if (state.frames === 0) return false;
      state.read += state.frames;
      state.frames = 0;
      return true;
    },
    { budgetMs: 60_000, nowMs: () => clock.now, offCoreMs: () => clock.offCore },
  );
  p.pollWhile(() => state.waiting);
  p.start();
  const asleep = (): boolean => Atomics.load(new Int32Array(memory), 0) === 1;
  return { poller: p, bells, clock, state, asleep };
}

/** One turn of the event loop (the poller's chain takes one turn per setImmediate). */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

t.test('a receive that spins while its thread loses its core stops spinning and sleeps, and a writer wakes it', async (t) => {
  const { poller: p, bells, clock, state, asleep } = pollerOnClocks();
  p.kick();
  for (let i = 0; i < 5; i++) await turn();
  t.notOk(asleep(), 'spinning while the receive waits, its budget far from spent');
  // Between two turns, 8 ms pass in which the thread waited for a core (its peer may hold it).
  clock.now += 8;
  clock.offCore += 8;
  for (let i = 0; i < 3; i++) await turn();
  t.ok(asleep(), 'marked asleep within three turns, though the receive still waits');
  p.kick();
  await turn();
  t.ok(asleep(), 'a new wait during the pause does not spin');
  // A writer writes, finds the mark and wakes it (PortTransport posts WAKE, which calls woken).
  state.frames = 1;
  t.ok(bells.wakeNeeded(0), 'the writer is told to wake it');
  p.woken();
  t.equal(state.read, 1, 'woken, it reads the frame');
  await turn();
  t.ok(asleep(), 'and sleeps again: polling is still paused');
  // The pause (20 ms) ends: the next wait spins again.
  clock.now += 25;
  p.kick();
  t.notOk(asleep(), 'after the pause a wait spins again');
  state.waiting = false;
  for (let i = 0; i < 3; i++) await turn();
  p.stop();
});

for (const [gap, offCore, what] of [
  [2, 2, 'a moment off the core (a helper thread of the process ran)'],
  [5, 0, 'a gap spent on the core (work, a collection)'],
] as const) {
  t.test(`${what} does not stop the spin`, async (t) => {
    const { poller: p, clock, state, asleep } = pollerOnClocks();
    p.kick();
    await turn();
    clock.now += gap;
    clock.offCore += offCore;
    for (let i = 0; i < 3; i++) await turn();
    t.notOk(asleep(), `still spinning after ${gap} ms, ${offCore} of them off the core`);
    state.waiting = false;
    for (let i = 0; i < 3; i++) await turn();
    t.ok(asleep(), 'asleep once the receive no longer waits');
    p.stop();
  });
}

t.test('until during a pause gives up at its first look: the world barrier then sleeps until its message', async (t) => {
  const { poller: p, clock, state, asleep } = pollerOnClocks();
  p.kick();
  await turn();
  clock.now += 8;
  clock.offCore += 8;
  for (let i = 0; i < 3; i++) await turn();
  t.ok(asleep(), 'paused and asleep');
  state.frames = 1;
  t.equal(await p.until(() => false), false, 'the watch gives up without a chain to spin on');
  t.equal(state.read, 1, 'after one look at the rings');
  t.ok(asleep(), 'and the rank sleeps again');
  t.equal(await p.until(() => true), true, 'a condition that already holds is seen at that look');
  p.stop();
});
