// The Matcher alone (runtime/matching.ts): MPI matching of one communicator context, driven by
// hand. Messages from one sender that match one receive are taken in the order they arrived
// (MPI's non-overtaking rule), whatever path they take: kept and taken, or matched to a receive
// posted first.
import t from 'tap';
import { ANY_SOURCE, ANY_TAG } from '../../runtime/constants.ts';
import { Matcher, type Held, type Message, type Status } from '../../runtime/matching.ts';
import type { Completion } from '../../runtime/request.ts';

/** A Completion that records how it ended, and whether its timer was cleared. */
class Waiter<T> implements Completion<T> {
  readonly startedAt = 0;
  outcome: { value: T } | { error: unknown } | undefined;
  timerCleared = 0;
  constructor(readonly description: string) {}
  resolve(value: T): void {
    if (this.outcome) throw new Error(`${this.description} completed twice`);
    this.outcome = { value };
  }
  reject(error: unknown): void {
    if (this.outcome) throw new Error(`${this.description} completed twice`);
    this.outcome = { error };
  }
  get value(): T | undefined {
    return this.outcome && 'value' in this.outcome ? this.outcome.value : undefined;
  }
  clearTimer = (): void => {
    this.timerCleared++;
  };
}

const msg = (source: number, tag: number, data: unknown): Message => ({ source, tag, data });

function receive(m: Matcher, source: number, tag: number, name = `recv(${source}, ${tag})`): Waiter<Message> {
  const w = new Waiter<Message>(name);
  m.post({ source, tag, request: w, clearTimer: w.clearTimer });
  return w;
}

function probe(m: Matcher, source: number, tag: number, name = `probe(${source}, ${tag})`): Waiter<Status> {
  const w = new Waiter<Status>(name);
  m.postProbe({ source, tag, request: w, clearTimer: w.clearTimer });
  return w;
}

/** Takes every kept message matching (source, tag), oldest first. */
function drain(m: Matcher, source: number, tag: number): unknown[] {
  const out: unknown[] = [];
  for (let x = m.take(source, tag); x; x = m.take(source, tag)) out.push(x.data);
  return out;
}

t.test('several kept messages from one sender are taken oldest first, by every pattern that matches them', async (t) => {
  for (const [source, tag] of [
    [ANY_SOURCE, ANY_TAG],
    [3, ANY_TAG],
    [ANY_SOURCE, 5],
    [3, 5],
  ]) {
    const m = new Matcher();
    for (let i = 0; i < 5; i++) m.arrive(msg(3, 5, i));
    t.equal(m.backlog, 5);
    t.same(drain(m, source, tag), [0, 1, 2, 3, 4], `take(${source}, ${tag})`);
    t.equal(m.backlog, 0);
  }
});

t.test('a wildcard receive takes the oldest message whatever its tag (non-overtaking across tags)', async (t) => {
  const m = new Matcher();
  m.arrive(msg(1, 7, 'first'));
  m.arrive(msg(1, 5, 'second'));
  m.arrive(msg(1, 7, 'third'));
  t.same(m.peek(ANY_SOURCE, ANY_TAG), msg(1, 7, 'first'));
  t.same(m.take(1, ANY_TAG)?.data, 'first');
  t.same(m.take(ANY_SOURCE, ANY_TAG)?.data, 'second');
  t.same(m.take(ANY_SOURCE, ANY_TAG)?.data, 'third');
  t.equal(m.take(ANY_SOURCE, ANY_TAG), undefined, 'nothing left');
});

t.test('a specific pattern skips older messages it does not match and leaves them in order', async (t) => {
  const m = new Matcher();
  m.arrive(msg(1, 1, 'a'));
  m.arrive(msg(2, 1, 'b'));
  m.arrive(msg(1, 2, 'c'));
  m.arrive(msg(2, 2, 'd'));
  m.arrive(msg(2, 1, 'e'));
  t.equal(m.take(0, ANY_TAG), undefined, 'no message from rank 0');
  t.equal(m.take(ANY_SOURCE, 9), undefined, 'no message with tag 9');
  t.same(m.take(1, 1)?.data, 'a');
  t.equal(m.backlog, 4);
  t.same(m.take(2, 2)?.data, 'd', 'from the middle');
  t.same(m.take(ANY_SOURCE, 1)?.data, 'b');
  t.same(m.take(2, ANY_TAG)?.data, 'e');
  t.same(m.take(ANY_SOURCE, ANY_TAG)?.data, 'c');
  t.equal(m.backlog, 0);
});

t.test('peek leaves the message in place; take then returns the same one', async (t) => {
  const m = new Matcher();
  t.equal(m.peek(ANY_SOURCE, ANY_TAG), undefined, 'empty');
  m.arrive(msg(4, 2, 'x'));
  m.arrive(msg(4, 3, 'y'));
  t.same(m.peek(4, 3), msg(4, 3, 'y'));
  t.same(m.peek(4, 3), msg(4, 3, 'y'), 'still there');
  t.equal(m.peek(5, ANY_TAG), undefined);
  t.equal(m.backlog, 2);
  t.same(m.take(4, 3), msg(4, 3, 'y'));
  t.equal(m.peek(4, 3), undefined, 'gone after take');
  t.same(m.peek(ANY_SOURCE, ANY_TAG), msg(4, 2, 'x'));
});

t.test('a message goes to the first posted receive it matches, in posting order, and is not kept', async (t) => {
  const m = new Matcher();
  const tagged = receive(m, 2, 9);
  const fromTwo = receive(m, 2, ANY_TAG);
  const any = receive(m, ANY_SOURCE, ANY_TAG);
  m.arrive(msg(1, 4, 'from 1'));
  t.same(any.value, msg(1, 4, 'from 1'), 'only the wildcard matches');
  t.equal(any.timerCleared, 1, 'its timer is cleared');
  m.arrive(msg(2, 4, 'from 2, tag 4'));
  t.same(fromTwo.value?.data, 'from 2, tag 4');
  t.equal(tagged.outcome, undefined, 'the tag-9 receive still waits');
  m.arrive(msg(2, 4, 'kept'));
  t.equal(m.backlog, 1, 'no receive matches: kept');
  m.arrive(msg(2, 9, 'tag 9'));
  t.same(tagged.value?.data, 'tag 9');
  t.equal(m.backlog, 1, 'a matched message is not kept');
  t.same(m.waiting(), [], 'every receive matched once');
});

t.test('two posted receives that both match: the earlier gets the earlier message', async (t) => {
  const m = new Matcher();
  const first = receive(m, 1, ANY_TAG, 'first');
  const second = receive(m, ANY_SOURCE, ANY_TAG, 'second');
  const third = receive(m, ANY_SOURCE, ANY_TAG, 'third');
  m.arrive(msg(1, 0, 'm1'));
  m.arrive(msg(1, 0, 'm2'));
  t.same([first.value?.data, second.value?.data, third.value], ['m1', 'm2', undefined]);
  t.same(m.waiting(), [third]);
});

t.test('a probe sees a message without taking it; every matching probe completes once', async (t) => {
  const m = new Matcher();
  const p1 = probe(m, 3, ANY_TAG);
  const p2 = probe(m, ANY_SOURCE, 8);
  const other = probe(m, 4, ANY_TAG);
  const r = receive(m, 3, 8);
  m.arrive(msg(3, 8, 'seen'));
  t.same(p1.value, { source: 3, tag: 8 }, 'status only, no data');
  t.same(p2.value, { source: 3, tag: 8 });
  t.equal(p1.timerCleared + p2.timerCleared, 2);
  t.equal(other.outcome, undefined);
  t.same(r.value?.data, 'seen', 'the receive still gets the message');
  m.arrive(msg(3, 1, 'later'));
  t.same(p1.value, { source: 3, tag: 8 }, 'a completed probe is not completed again');
  t.equal(m.backlog, 1, 'a probed message with no receive is kept');
  t.same(m.waiting(), [other]);
});

t.test('withdraw removes a posted receive or probe (cancel, timeout), once', async (t) => {
  const m = new Matcher();
  const r = receive(m, ANY_SOURCE, ANY_TAG);
  const r2 = receive(m, ANY_SOURCE, ANY_TAG);
  const p = probe(m, 1, 1);
  t.same(m.waiting(), [r, r2, p], 'receives, then probes');
  t.equal(m.withdraw(r), true);
  t.equal(r.timerCleared, 1);
  t.equal(m.withdraw(r), false, 'already withdrawn');
  t.equal(m.withdraw(p), true);
  t.equal(p.timerCleared, 1);
  t.equal(m.withdraw(p), false);
  m.arrive(msg(1, 1, 'after'));
  t.equal(r.outcome, undefined, 'a withdrawn receive never completes');
  t.equal(p.outcome, undefined, 'a withdrawn probe never completes');
  t.same(r2.value?.data, 'after');
  t.equal(m.withdraw(r2), false, 'a matched receive cannot be withdrawn');
  t.equal(m.withdraw(new Waiter('never posted')), false);
  t.same(m.waiting(), []);
});

t.test('withdraw from the middle keeps the others in order', async (t) => {
  const m = new Matcher();
  const [a, b, c] = ['a', 'b', 'c'].map((name) => receive(m, ANY_SOURCE, ANY_TAG, name));
  const [p, q, s] = ['p', 'q', 's'].map((name) => probe(m, 2, ANY_TAG, name));
  t.ok(m.withdraw(b));
  t.ok(m.withdraw(q));
  t.same(m.waiting(), [a, c, p, s]);
  m.arrive(msg(2, 0, 1));
  m.arrive(msg(2, 0, 2));
  t.same([a.value?.data, c.value?.data], [1, 2]);
  t.same([p.value, s.value, q.outcome], [{ source: 2, tag: 0 }, { source: 2, tag: 0 }, undefined]);
});

t.test('failSource rejects what waits on exactly that rank; wildcards and other ranks keep waiting', async (t) => {
  const m = new Matcher();
  const on2 = receive(m, 2, 5);
  const any = receive(m, ANY_SOURCE, 5);
  const on3 = receive(m, 3, ANY_TAG);
  const probe2 = probe(m, 2, ANY_TAG);
  const probeAny = probe(m, ANY_SOURCE, ANY_TAG);
  const described: string[] = [];
  m.failSource(2, (what) => {
    described.push(what);
    return new Error(`${what}: rank 2 lost`);
  });
  t.same(described, ['recv(2, 5)', 'probe(2, -1)'], 'the error names each operation');
  t.match(on2.outcome, { error: { message: 'recv(2, 5): rank 2 lost' } });
  t.match(probe2.outcome, { error: { message: 'probe(2, -1): rank 2 lost' } });
  t.equal(on2.timerCleared + probe2.timerCleared, 2, 'their timers are cleared');
  t.same(m.waiting(), [any, on3, probeAny]);
  m.arrive(msg(2, 5, 'late'));
  t.same(any.value?.data, 'late', 'a wildcard still matches');
  t.same(probeAny.value, { source: 2, tag: 5 });
  t.equal(on3.outcome, undefined);
});

t.test('failAll rejects every receive and probe and leaves kept messages alone', async (t) => {
  const m = new Matcher();
  m.arrive(msg(0, 0, 'kept'));
  const r = receive(m, 1, ANY_TAG);
  const p = probe(m, ANY_SOURCE, 3);
  m.failAll((what) => new Error(`${what} closed`));
  t.match(r.outcome, { error: { message: 'recv(1, -1) closed' } });
  t.match(p.outcome, { error: { message: 'probe(-1, 3) closed' } });
  t.equal(r.timerCleared + p.timerCleared, 2);
  t.same(m.waiting(), []);
  m.arrive(msg(1, 3, 'after'));
  t.equal(m.backlog, 2, 'nothing waits any more: kept');
  t.same(drain(m, ANY_SOURCE, ANY_TAG), ['kept', 'after']);
});

t.test('streaming: taking from the front reclaims the space and keeps the order (compaction)', async (t) => {
  const m = new Matcher();
  const kept = (): number => (Reflect.get(m, 'unexpected') as unknown[]).length;
  let next = 0;
  // Keep 1500 messages queued while 6000 pass through, taken from the front.
  for (let i = 0; i < 1500; i++) m.arrive(msg(1, 0, next++));
  let maxKept = 0;
  const taken: unknown[] = [];
  for (let round = 0; round < 6000; round++) {
    taken.push(m.take(ANY_SOURCE, ANY_TAG)?.data);
    m.arrive(msg(1, 0, next++));
    maxKept = Math.max(maxKept, kept());
  }
  t.same(
    taken,
    Array.from({ length: 6000 }, (_, i) => i),
    'taken in arrival order',
  );
  const expected = 6000;
  t.equal(m.backlog, 1500);
  t.ok(maxKept <= 3 * 1500, `the queue's array stays bounded (at most ${maxKept} slots for 1500 messages)`);
  t.ok(maxKept > 1500 + 1024, 'but is not compacted at every take');
  t.same(m.peek(ANY_SOURCE, ANY_TAG)?.data, expected, 'peek sees the oldest after compaction');
  // Taking from the middle after compaction still keeps the others in order.
  m.arrive(msg(2, 1, 'middle'));
  m.arrive(msg(1, 0, next++));
  t.same(m.take(2, ANY_TAG)?.data, 'middle');
  const rest = drain(m, ANY_SOURCE, ANY_TAG);
  t.same(
    rest,
    Array.from({ length: next - expected }, (_, i) => expected + i),
  );
  t.equal(kept(), 0, 'emptied: the array is released');
});

t.test('emptying the queue from the front resets it; later messages keep their order', async (t) => {
  const m = new Matcher();
  m.arrive(msg(1, 0, 'a'));
  m.arrive(msg(1, 0, 'b'));
  t.equal(m.take(1, 0)?.data, 'a');
  t.equal(m.backlog, 1);
  t.equal(m.take(1, 0)?.data, 'b');
  t.equal(m.backlog, 0);
  m.arrive(msg(1, 0, 'c'));
  m.arrive(msg(1, 1, 'd'));
  t.equal(m.backlog, 2);
  t.same(m.peek(ANY_SOURCE, ANY_TAG)?.data, 'c');
  t.same(drain(m, 1, ANY_TAG), ['c', 'd']);
});

t.test('a short queue is not compacted: the head advances over taken slots', async (t) => {
  const m = new Matcher();
  const kept = (): number => (Reflect.get(m, 'unexpected') as unknown[]).length;
  for (let i = 0; i < 100; i++) m.arrive(msg(1, 0, i));
  for (let i = 0; i < 60; i++) m.take(ANY_SOURCE, ANY_TAG);
  t.equal(kept(), 100, 'taking from the front does not move the rest');
  t.equal(m.backlog, 40);
  t.same(m.take(ANY_SOURCE, ANY_TAG)?.data, 60);
});

t.test("flow control's accounting: counted bytes are kept while a message waits and given back as it leaves", async (t) => {
  const released: Array<[number, number]> = [];
  const m = new Matcher((source, cost) => released.push([source, cost]));
  m.arrive(msg(1, 5, 'a'), 10);
  m.arrive(msg(2, 5, 'b'), 0);
  m.arrive(msg(1, 6, 'c'), 7);
  t.equal(m.bufferedBytes, 17, 'two counted messages kept');
  t.same(released, [], 'nothing given back while they wait');
  t.equal(m.take(1, 6)?.data, 'c', 'taken from the middle');
  t.equal(m.bufferedBytes, 10);
  t.same(released, [[1, 7]]);
  t.equal((m.receive(ANY_SOURCE, ANY_TAG) as Message).data, 'a', 'received from the head');
  t.equal(m.bufferedBytes, 0);
  t.same(released, [
    [1, 7],
    [1, 10],
  ]);
  t.equal(m.take(2, 5)?.data, 'b');
  t.equal(released.length, 2, 'an uncounted message gives nothing back');

  const w = receive(m, 3, 1);
  m.arrive(msg(3, 1, 'x'), 12);
  t.equal(w.value?.data, 'x', 'a posted receive takes a counted message at once');
  t.same(released.at(-1), [3, 12], 'and its bytes are given back at once');
  t.equal(m.bufferedBytes, 0, 'never counted as kept');
  receive(m, 3, 1);
  m.arrive(msg(3, 1, 'y'), 0);
  t.equal(released.length, 3, 'an uncounted match gives nothing back');
});

t.test('revoke rejects every waiter and drops every kept message: counted bytes back, held data refused', async (t) => {
  const released: Array<[number, number]> = [];
  const m = new Matcher((source, cost) => released.push([source, cost]));
  let dropped = 0;
  const rendezvous = { fetch: async () => msg(4, 1, 'never'), drop: () => dropped++ } as unknown as Held;
  m.arrive(msg(1, 1, 'a'), 4);
  m.arrive(msg(2, 1, 'b'), 5);
  t.equal(m.take(1, 1)?.data, 'a', 'the head moves on');
  m.arrive(msg(4, 1, 'c'), rendezvous);
  const r = receive(m, 9, 9);
  const p = probe(m, 9, 9);
  m.revoke((d) => new Error(`revoked: ${d}`));
  t.same(released, [
    [1, 4],
    [2, 5],
  ]);
  t.equal(dropped, 1, 'the sender of held data is told not to send it');
  t.match(r.outcome, { error: { message: 'revoked: recv(9, 9)' } });
  t.match(p.outcome, { error: { message: 'revoked: probe(9, 9)' } });
  t.equal(m.bufferedBytes, 0);
  t.equal(m.backlog, 0);
  t.equal(m.take(ANY_SOURCE, ANY_TAG), undefined, 'nothing kept');
  t.same(m.waiting(), []);
});

t.test('halt drops what was kept without giving anything back, and leaves receives waiting for ever', async (t) => {
  const released: Array<[number, number]> = [];
  const m = new Matcher((source, cost) => released.push([source, cost]));
  m.arrive(msg(1, 1, 'a'), 4);
  const w = receive(m, 2, 2);
  m.halt();
  t.equal(m.bufferedBytes, 0);
  t.equal(m.backlog, 0);
  t.equal(m.take(ANY_SOURCE, ANY_TAG), undefined);
  t.same(released, [], 'a halted rank gives nothing back');
  t.equal(w.outcome, undefined, 'not rejected');
  t.same(m.waiting(), [w]);
});

t.test('receives and probes without a timer match, withdraw and fail alike', async (t) => {
  const m = new Matcher();
  const r = new Waiter<Message>('recv');
  const p = new Waiter<Status>('probe');
  m.postProbe({ source: 1, tag: 1, request: p });
  m.post({ source: 1, tag: 1, request: r });
  m.arrive(msg(1, 1, 'x'));
  t.same(p.value, { source: 1, tag: 1 });
  t.equal(r.value?.data, 'x');
  const r2 = new Waiter<Message>('recv 2');
  const p2 = new Waiter<Status>('probe 2');
  m.post({ source: 1, tag: 2, request: r2 });
  m.postProbe({ source: 1, tag: 2, request: p2 });
  t.ok(m.withdraw(r2));
  t.ok(m.withdraw(p2));
  const r3 = new Waiter<Message>('recv 3');
  const p3 = new Waiter<Status>('probe 3');
  m.post({ source: 2, tag: 1, request: r3 });
  m.postProbe({ source: 3, tag: 1, request: p3 });
  m.failSource(2, (d) => new Error(d));
  m.failAll((d) => new Error(d));
  t.match(r3.outcome, { error: { message: 'recv 3' } });
  t.match(p3.outcome, { error: { message: 'probe 3' } });
});
