// Requests (runtime/request.ts) alone: completion once, test(), cancel(), awaiting, waitAll/waitAny.
import t from 'tap';
import { Request, waitAll, waitAny } from '../../runtime/request.ts';

const failure = <T>(request: Request<T>): Promise<unknown> =>
  Promise.resolve(request).then(
    () => undefined,
    (err: unknown) => err,
  );

t.test('a request keeps what it was given: description, start time', async (t) => {
  const r = new Request<number>('recv(source=2, tag=5)', 12.5);
  t.equal(r.description, 'recv(source=2, tag=5)');
  t.equal(r.startedAt, 12.5);
  t.equal(r.done, false);
  t.same(r.test(), { done: false });
});

t.test('resolve completes it once: test() and await see the value, later resolve/reject are ignored', async (t) => {
  const r = new Request<string>('op', 0);
  const early = r.then((v) => `early ${v}`);
  r.resolve('a');
  r.resolve('b');
  r.reject(new Error('late'));
  t.equal(r.done, true);
  t.same(r.test(), { done: true, value: 'a' });
  t.equal(await early, 'early a', 'a waiter from before completion');
  t.equal(await r, 'a', 'a waiter from after completion');
  t.equal(await r.finally(() => undefined), 'a');
});

t.test('reject fails it once: test() throws the error, await rejects with it, later calls are ignored', async (t) => {
  const r = new Request<string>('op', 0);
  const boom = new Error('boom');
  const early = failure(r);
  r.reject(boom);
  r.resolve('late');
  r.reject(new Error('later'));
  t.equal(r.done, true);
  t.throws(() => r.test(), boom);
  t.equal(await early, boom);
  t.equal(await failure(r), boom);
  t.equal(await r.catch((e: unknown) => e), boom);
  let ran = 0;
  await t.rejects(
    r.finally(() => void ran++),
    boom,
  );
  t.equal(ran, 1, 'finally runs on failure too');
});

t.test('every waiter hears the outcome, in the order they waited', async (t) => {
  const r = new Request<number>('op', 0);
  const order: string[] = [];
  const a = r.then((v) => order.push(`a${v}`));
  const b = r.then((v) => order.push(`b${v}`));
  r.resolve(1);
  await Promise.all([a, b]);
  t.same(order, ['a1', 'b1']);
  const f = new Request<number>('op', 0);
  const seen: unknown[] = [];
  const c = f.then(undefined, (e) => seen.push(e));
  const d = f.catch((e) => seen.push(e));
  f.reject('x');
  await Promise.all([c, d]);
  t.same(seen, ['x', 'x']);
});

t.test('a failed request nobody awaits raises no unhandled rejection', async (t) => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown): void => void unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  new Request<void>('op', 0).reject(new Error('ignored'));
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  process.off('unhandledRejection', onUnhandled);
  t.same(unhandled, []);
});

t.test('cancel withdraws a pending request: it rejects with DS_ERR_CANCELLED naming the operation', async (t) => {
  let asked = 0;
  const r = new Request<number>('recv(source=1, tag=0)', 0, () => (asked++, true));
  t.equal(r.cancel(), true);
  t.equal(asked, 1, 'the canceller was asked');
  t.equal(r.done, true);
  t.match(await failure(r), { code: 'DS_ERR_CANCELLED', message: 'recv(source=1, tag=0) was cancelled' });
  t.equal(r.cancel(), false, 'a second cancel does nothing');
  t.equal(asked, 1);
});

t.test('cancel does nothing when the request cannot be withdrawn or is already complete', async (t) => {
  const sent = new Request<void>('send', 0, () => false);
  t.equal(sent.cancel(), false, 'the canceller refused (already handed to the network)');
  t.equal(sent.done, false);
  const plain = new Request<void>('op', 0);
  t.equal(plain.cancel(), false, 'no canceller');
  t.equal(plain.done, false);
  let asked = 0;
  const done = new Request<number>('op', 0, () => (asked++, true));
  done.resolve(3);
  t.equal(done.cancel(), false);
  t.equal(asked, 0, 'a completed request does not ask its canceller');
  t.same(done.test(), { done: true, value: 3 });
  const failed = new Request<number>('op', 0, () => (asked++, true));
  failed.reject(new Error('gone'));
  t.equal(failed.cancel(), false);
  const rejected = new Request<number>('op', 0, () => (asked++, true));
  rejected.reject(new Error('x'));
  t.equal(asked, 0);
});

t.test('Request.resolved is complete from the start', async (t) => {
  const r = Request.resolved('send to PROC_NULL', 4, 'v');
  t.equal(r.description, 'send to PROC_NULL');
  t.equal(r.startedAt, 4);
  t.same(r.test(), { done: true, value: 'v' });
  t.equal(r.cancel(), false);
});

t.test('waitAll gives every value in order, or the first failure', async (t) => {
  const a = new Request<number>('a', 0);
  const b = new Request<number>('b', 0);
  const all = waitAll([a, b]);
  b.resolve(2);
  a.resolve(1);
  t.same(await all, [1, 2]);
  const c = new Request<number>('c', 0);
  const d = new Request<number>('d', 0);
  const failing = waitAll([c, d]);
  d.reject(new Error('d failed'));
  await t.rejects(failing, { message: 'd failed' });
  t.same(await waitAll([]), []);
});

t.test('waitAny gives the first to complete with its index; of none, DS_ERR_INVALID_ARGUMENT', async (t) => {
  const a = new Request<string>('a', 0);
  const b = new Request<string>('b', 0);
  const any = waitAny([a, b]);
  b.resolve('second');
  t.same(await any, { index: 1, value: 'second' });
  a.resolve('first');
  t.same(await waitAny([a, b]), { index: 0, value: 'first' }, 'of two complete, the first listed');
  await t.rejects(waitAny([]), { code: 'DS_ERR_INVALID_ARGUMENT', message: 'waitAny of no requests' });
});
