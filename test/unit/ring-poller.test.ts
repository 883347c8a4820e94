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
