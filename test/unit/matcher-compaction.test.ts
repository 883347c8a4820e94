// The Matcher's queue of kept messages at the edges of its compaction rule: taken slots at the front
// are reclaimed once more than 1024 of them make up more than half the queue, not before, and
// never at the cost of the order of what is left.
import t, { type Test } from 'tap';
import { ANY_SOURCE, ANY_TAG } from '../../runtime/constants.ts';
import { Matcher } from '../../runtime/matching.ts';

/** A matcher holding `length` messages 0, 1, … from rank 1, and the length of its queue's array. */
function queue(length: number): { m: Matcher; slots: () => number } {
  const m = new Matcher();
  for (let i = 0; i < length; i++) m.arrive({ source: 1, tag: 0, data: i });
  return { m, slots: () => (Reflect.get(m, 'unexpected') as unknown[]).length };
}

/** Takes `count` messages from the front and checks they come in order from `from`. */
function takeFront(t: Test, m: Matcher, count: number, from: number): void {
  const got: unknown[] = [];
  for (let i = 0; i < count; i++) got.push(m.take(ANY_SOURCE, ANY_TAG)?.data);
  t.same(
    got,
    Array.from({ length: count }, (_, i) => from + i),
    `${count} taken in order from ${from}`,
  );
}

t.test('1024 taken slots are never reclaimed, even when they are more than half the queue', async (t) => {
  const { m, slots } = queue(2047);
  takeFront(t, m, 1024, 0);
  t.equal(slots(), 2047, 'not compacted at 1024 taken of 2047');
  takeFront(t, m, 1, 1024);
  t.equal(slots(), 2047 - 1025, 'compacted at 1025 taken: only the 1022 left are kept');
  t.equal(m.backlog, 1022);
  t.equal(m.peek(ANY_SOURCE, ANY_TAG)?.data, 1025, 'the oldest left is first');
  takeFront(t, m, 1022, 1025);
  t.equal(slots(), 0);
});

t.test('more than 1024 taken slots are reclaimed only once they are more than half the queue', async (t) => {
  const { m, slots } = queue(2050);
  takeFront(t, m, 1025, 0);
  t.equal(slots(), 2050, 'not compacted at 1025 taken of 2050 (exactly half)');
  takeFront(t, m, 1, 1025);
  t.equal(slots(), 2050 - 1026, 'compacted at 1026 taken');
  t.equal(m.backlog, 1024);
  // After compaction, taking from the middle and from the front still keeps the order.
  t.equal(m.take(1, ANY_TAG)?.data, 1026);
  m.arrive({ source: 2, tag: 5, data: 'late' });
  t.equal(m.take(2, 5)?.data, 'late');
  takeFront(t, m, 1023, 1027);
  t.equal(m.backlog, 0);
});
