// The doorbell of a thread rank that polls its rings (runtime/transport/shared-ring.ts): a reader
// marks itself asleep, then looks at its rings once more; a writer writes, then looks for the mark.
// Every interleaving of those four steps either lets the last look see the frame or tells the writer
// to wake the reader, so no frame waits for a wake-up that never comes. Driven by hand, step by step.
import t from 'tap';
import { Doorbells, SharedRing } from '../../runtime/transport/shared-ring.ts';
import { RingPoller } from '../../runtime/transport/ring-poller.ts';
import { bellMemory, ringAt, ringMemory } from '../../runtime/protocol/thread-rings.ts';

/** Rank 1 writes to rank 0 through a ring; rank 0's doorbell. */
function pair(): { ring: SharedRing; bells: Doorbells; asleep: () => boolean } {
  const memory = bellMemory(2);
  const bells = new Doorbells(memory);
  return { ring: new SharedRing(ringMemory(2), ringAt(2, 1, 0)), bells, asleep: () => Atomics.load(new Int32Array(memory), 0) === 1 };
}

/** The orders of reader steps `r` and writer steps `w` that keep each side's own order. */
function interleavings(r: number, w: number): Array<Array<'r' | 'w'>> {
  if (r === 0) return [Array<'w'>(w).fill('w')];
  if (w === 0) return [Array<'r'>(r).fill('r')];
  return [
    ...interleavings(r - 1, w).map((rest) => ['r' as const, ...rest]),
    ...interleavings(r, w - 1).map((rest) => ['w' as const, ...rest]),
  ];
}

t.test('every interleaving of a reader going to sleep and a writer: the frame is seen or the reader woken', async (t) => {
  const orders = interleavings(2, 2);
  t.equal(orders.length, 6);
  for (const order of orders) {
    const { ring, bells } = pair();
    let r = 0;
    let w = 0;
    let seen = false;
    let woken = false;
    for (const side of order) {
      // The reader marks itself asleep, then looks at its ring; the writer writes, then looks for the mark.
      if (side === 'r' && r++ === 0) bells.markAsleep(0);
      else if (side === 'r') seen = ring.nextSeq() === 7;
      else if (w++ === 0) t.ok(ring.write(7, new Uint8Array([1, 2, 3])), 'written');
      else woken = bells.wakeNeeded(0);
    }
    t.ok(
      seen || woken,
      `${order.join('')}: ${seen ? 'the last look sees the frame' : ''}${seen && woken ? ', ' : ''}${woken ? 'the writer wakes the reader' : ''}`,
    );
    if (order.join('') === 'rrww') t.ok(woken && !seen, 'written after the last look: only the wake-up can tell the reader');
    if (order.join('') === 'wwrr') t.ok(seen && !woken, 'written before the mark: the last look sees it, no wake-up is sent');
  }
});

t.test('two writers to a sleeping reader: one wakes it, the other need not', async (t) => {
  const { bells } = pair();
  bells.markAsleep(0);
  t.equal(bells.wakeNeeded(0), true, 'the first writer takes the mark down and wakes the reader');
  t.equal(bells.wakeNeeded(0), false, 'the second finds no mark: one wake-up per sleep');
});

t.test('the poller at the race: a frame written between its mark and its last look', async (t) => {
  const { ring, bells, asleep } = pair();
  let written = false;
  let wake = false;
  let read = 0;
  // The writer's two steps run inside the poller's last look, after its mark and before it reads.
  const poller = new RingPoller(0, bells, () => {
    if (!written) {
      written = ring.write(0, new Uint8Array([9]));
      wake = bells.wakeNeeded(0);
    }
    if (ring.nextSeq() === undefined) return false;
    read += ring.take().length;
    return true;
  });
  poller.start();
  t.equal(read, 1, 'the last look read the frame');
  t.equal(wake, true, 'the writer found the mark too (a spare wake-up; PortTransport posts it, and woken() finds nothing)');
  t.notOk(asleep(), 'the reader took its own mark down, having read something');
  poller.woken();
  await new Promise((resolve) => setImmediate(resolve));
  t.ok(asleep(), 'nothing more to read: it sleeps, marked, until the next writer');
  t.equal(bells.wakeNeeded(0), true, 'so the next writer wakes it');
  poller.stop();
});
