// The Matcher at its edges: the compaction rule of its queue (taken slots at the front are reclaimed
// once more than 1024 of them make up more than half the queue, not before, and never at the cost
// of the order of what is left), messages whose data is still at their sender, receives into a
// buffer, and what it counts after halt.
import t, { type Test } from 'tap';
import { ANY_SOURCE, ANY_TAG } from '../../runtime/constants.ts';
import { Matcher, type Held, type Message } from '../../runtime/matching.ts';
import type { Completion } from '../../runtime/request.ts';

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

/** A completion that keeps how it ended. */
function completion<T>(): Completion<T> & { value?: T; error?: unknown; settled: Promise<void> } {
  let settle!: () => void;
  const c = {
    description: 'recv',
    startedAt: 0,
    settled: new Promise<void>((resolve) => (settle = resolve)),
    value: undefined as T | undefined,
    error: undefined as unknown,
    resolve(v: T) {
      c.value = v;
      settle();
    },
    reject(e: unknown) {
      c.error = e;
      settle();
    },
  };
  return c;
}

/** A message whose data is still at its sender: fetch brings `data`, into `into` if given. */
function atSender(source: number, tag: number, data: Uint8Array): { held: Held; fetched: Array<Uint8Array | undefined> } {
  const fetched: Array<Uint8Array | undefined> = [];
  const held = {
    fetch: async (into?: Uint8Array): Promise<Message> => {
      fetched.push(into);
      if (into) into.set(data);
      return { source, tag, data: into ? into.subarray(0, data.length) : data };
    },
    drop: () => {},
  };
  return { held, fetched };
}

t.test('a message whose data is at its sender is fetched when matched, posted first or kept', async (t) => {
  const released: Array<[number, number]> = [];
  const m = new Matcher((source, cost) => released.push([source, cost]));
  const posted = completion<Message>();
  m.post({ source: 3, tag: 1, request: posted });
  const first = atSender(3, 1, new Uint8Array([1, 2]));
  m.arrive({ source: 3, tag: 1, data: 'placeholder' }, first.held);
  await posted.settled;
  t.same(posted.value, { source: 3, tag: 1, data: new Uint8Array([1, 2]) }, 'the posted receive gets the fetched data');
  t.same(first.fetched, [undefined]);
  const second = atSender(3, 2, new Uint8Array([3]));
  m.arrive({ source: 3, tag: 2, data: 'placeholder' }, second.held);
  t.equal(m.bufferedBytes, 0, 'held data counts no bytes of the buffer');
  t.equal(m.backlog, 1);
  const into = new Uint8Array(4);
  const got = await m.receive(3, 2, into);
  t.same(got, { source: 3, tag: 2, data: new Uint8Array([3]) }, 'the kept one is fetched when received');
  t.equal(second.fetched[0], into, "into the receive's buffer");
  t.same(released, [], 'nothing counted, nothing released');
  t.equal(m.receive(3, 9), undefined, 'no match: nothing');
});

t.test('a posted receive with a buffer gets the data in it; a buffer too small fails the receive', async (t) => {
  const m = new Matcher();
  const into = new Uint8Array(4);
  const fits = completion<Message>();
  m.post({ source: 1, tag: 0, request: fits, into });
  m.arrive({ source: 1, tag: 0, data: new Uint8Array([7, 8]) });
  await fits.settled;
  t.same(into, new Uint8Array([7, 8, 0, 0]), 'written into the buffer');
  t.equal((fits.value!.data as Uint8Array).buffer, into.buffer, "the message's data is the buffer");
  const small = completion<Message>();
  m.post({ source: 1, tag: 0, request: small, into: new Uint8Array(1) });
  m.arrive({ source: 1, tag: 0, data: new Uint8Array([1, 2, 3]) });
  await small.settled;
  t.match(small.error, { code: 'DS_ERR_PAYLOAD_TOO_LARGE' });
  t.equal(m.backlog, 0, 'the message was received and dropped');
});

t.test('a matcher without a release callback takes counted messages all the same', async (t) => {
  const m = new Matcher();
  const posted = completion<Message>();
  m.post({ source: 1, tag: 0, request: posted });
  m.arrive({ source: 1, tag: 0, data: 'x' }, 10);
  t.same(posted.value, { source: 1, tag: 0, data: 'x' });
  m.arrive({ source: 1, tag: 0, data: 'y' }, 10);
  t.equal(m.bufferedBytes, 10);
  t.same(m.take(1, 0)?.data, 'y');
  t.equal(m.bufferedBytes, 0);
});

t.test('after halt, later messages are counted and released as before', async (t) => {
  const released: Array<[number, number]> = [];
  const m = new Matcher((source, cost) => released.push([source, cost]));
  m.arrive({ source: 1, tag: 0, data: 'lost' }, 5);
  m.halt();
  t.equal(m.backlog, 0);
  t.equal(m.bufferedBytes, 0);
  m.arrive({ source: 2, tag: 0, data: 'after' }, 7);
  t.equal(m.bufferedBytes, 7);
  t.equal(m.take(2, 0)?.data, 'after');
  t.same(released, [[2, 7]], 'what arrived after the halt is released; what was dropped is not');
  t.equal(m.bufferedBytes, 0);
});

t.test('waitingForMessage: true while a receive or a probe waits', async (t) => {
  const m = new Matcher();
  t.equal(m.waitingForMessage, false);
  const r = completion<Message>();
  m.post({ source: 1, tag: 0, request: r });
  t.equal(m.waitingForMessage, true, 'a receive');
  m.withdraw(r);
  t.equal(m.waitingForMessage, false);
  const p = completion<{ source: number; tag: number }>();
  m.postProbe({ source: 1, tag: 0, request: p });
  t.equal(m.waitingForMessage, true, 'a probe');
  m.arrive({ source: 1, tag: 0, data: 'x' });
  t.equal(m.waitingForMessage, false, 'the probe completed');
});

t.test('a receive that matches nothing leaves every kept message in place', async (t) => {
  const m = new Matcher();
  m.arrive({ source: 1, tag: 0, data: 'first' });
  m.arrive({ source: 1, tag: 0, data: 'second' });
  t.equal(m.receive(2, 0), undefined);
  t.equal(m.backlog, 2);
  t.same([m.take(1, 0)?.data, m.take(1, 0)?.data], ['first', 'second']);
});

t.test('counted bytes stay with their message when the queue empties or is compacted', async (t) => {
  const released: Array<[number, number]> = [];
  const m = new Matcher((source, cost) => released.push([source, cost]));
  m.arrive({ source: 1, tag: 0, data: 'a' }, 3);
  t.equal(m.take(1, 0)?.data, 'a'); // the queue empties and starts again
  m.arrive({ source: 2, tag: 0, data: 'b' }, 5);
  t.equal(m.take(2, 0)?.data, 'b');
  t.same(released, [
    [1, 3],
    [2, 5],
  ]);
  released.length = 0;
  for (let i = 0; i < 2050; i++) m.arrive({ source: 3, tag: 0, data: i }, i + 1);
  for (let i = 0; i < 1026; i++) m.take(3, 0); // compacted at the 1026th
  t.same(released.at(-1), [3, 1026]);
  t.equal(m.take(3, 0)?.data, 1026);
  t.same(released.at(-1), [3, 1027], 'the first message after compaction gives back its own bytes');
  t.equal(m.bufferedBytes, (2050 * 2051) / 2 - (1027 * 1028) / 2);
});
