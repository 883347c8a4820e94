import t from 'tap';
import { ErrorCode, isDsError, runLocal } from 'dsmpi';

t.setTimeout(20_000);

const codeOf = (err: unknown): string => (isDsError(err) ? err.code : String(err));

t.test('put, get, accumulate, fetchAndOp, compareAndSwap on slots', async (t) => {
  const [res] = await runLocal(2, async (c) => {
    const win = await c.window<unknown>({ root: 1, length: 4, initial: 0 });
    if (c.rank !== 0) return [];
    await win.put(0, { a: [1, 2] });
    await win.accumulate(1, 5, 'sum');
    await win.accumulate(1, 3, 'prod');
    await win.put(2, [1, 2, 3]);
    await win.accumulate(2, [10, 20, 30], 'sum'); // element-wise
    return [
      await win.get(0),
      await win.get(1),
      await win.get(2),
      await win.fetchAndOp(3, 0b1100, 'bor'),
      await win.fetchAndOp(3, 0b0110, 'band'),
      await win.get(3),
      await win.compareAndSwap(0, { a: [1, 2] }, 'swapped'), // structural equality
      await win.get(0),
      await win.fetchAndOp(1, 'new', 'replace'),
      await win.get(1),
    ];
  });
  t.same(res, [{ a: [1, 2] }, 15, [11, 22, 33], 0, 0b1100, 0b0100, { a: [1, 2] }, 'swapped', 15, 'new']);
});

t.test('fence: every put before the fence is seen by every rank after it', async (t) => {
  const n = 5;
  const results = await runLocal(n, async (c) => {
    const win = await c.window({ root: 2, length: n, initial: -1 });
    const seen: number[][] = [];
    for (let round = 0; round < 3; round++) {
      win.put(c.rank, round * 10 + c.rank); // not awaited: the fence completes it
      await win.fence();
      seen.push(await Promise.all(Array.from({ length: n }, (_, i) => win.get(i).then())));
      await win.fence();
    }
    await win.free();
    return seen;
  });
  for (const seen of results) {
    t.same(
      seen,
      [0, 1, 2].map((round) => Array.from({ length: n }, (_, i) => round * 10 + i)),
    );
  }
});

t.test('exclusive lock: a get-then-put increment under lock loses no update', async (t) => {
  const n = 4;
  const results = await runLocal(n, async (c) => {
    const win = await c.window({ root: 0, length: 1 });
    for (let i = 0; i < 50; i++) {
      await win.lock('exclusive');
      const v = await win.get(0);
      await win.put(0, v + 1);
      await win.unlock();
    }
    await win.fence();
    return win.get(0).then();
  });
  t.same(results, Array(n).fill(200));
});

t.test("another rank's operation waits while a rank holds the exclusive lock", async (t) => {
  const results = await runLocal(3, async (c) => {
    const win = await c.window<string>({ root: 0, length: 1, initial: 'start' });
    if (c.rank === 1) {
      await win.lock('exclusive');
      await c.send('locked', 2, 1);
      await c.recv(2, 2); // rank 2's put has reached the host's queue by now (FIFO network)
      const during = await win.get(0);
      await win.unlock();
      await c.barrier();
      return { during, after: await win.get(0) };
    }
    if (c.rank === 2) {
      await c.recv(1, 1);
      const put = win.put(0, 'two');
      await c.send('put sent', 1, 2);
      await put; // completes only after rank 1's unlock
      await c.barrier();
      return {};
    }
    await c.barrier();
    return {};
  });
  t.same(results[1], { during: 'start', after: 'two' });
});

t.test('shared locks coexist; an exclusive lock waits for them', async (t) => {
  const results = await runLocal(3, async (c) => {
    const win = await c.window({ root: 0, length: 1 });
    if (c.rank !== 0) {
      const other = 3 - c.rank;
      await win.lock('shared');
      await c.send('in', other, 1);
      await c.recv(other, 1); // both hold the shared lock now (would deadlock if shared locks excluded)
      await c.send('holding', 0, 2);
      await c.recv(0, 3); // rank 0's exclusive request is queued at the host
      await win.accumulate(0, 1, 'sum');
      await win.unlock();
      await c.barrier();
      return undefined;
    }
    await c.recv(1, 2);
    await c.recv(2, 2);
    const locking = win.lock('exclusive'); // rank 0 is the host: queued at once
    await c.send('asked', 1, 3);
    await c.send('asked', 2, 3);
    await locking; // granted only after both shared holders unlock
    const seen = await win.get(0);
    await win.unlock();
    await c.barrier();
    return seen;
  });
  t.equal(results[0], 2, 'the exclusive lock was granted after both shared epochs, with their updates');
});

t.test('window errors: at once for arguments, as rejections from the host', async (t) => {
  await runLocal(2, async (c) => {
    const win = await c.window<unknown>({ root: 1, length: 2, initial: 'text' });
    t.throws(() => win.get(2), { code: ErrorCode.InvalidArgument }, 'slot out of range');
    t.throws(() => win.put(-1, 0), { code: ErrorCode.InvalidArgument }, 'negative slot');
    t.throws(() => win.accumulate(0, 1, 'avg' as 'sum'), { code: ErrorCode.InvalidArgument }, 'unknown op');
    t.throws(() => win.unlock(), { code: ErrorCode.InvalidArgument }, 'unlock without lock');
    t.throws(() => win.put(0, new Set()), { code: ErrorCode.Unencodable }, 'unencodable value');
    t.throws(() => c.window({ length: 0 }), { code: ErrorCode.InvalidArgument }, 'length 0');
    t.equal(await win.fetchAndOp(c.rank, 1, 'sum').then(() => 'resolved', codeOf), ErrorCode.OpFailed, "'sum' on a string slot");
    t.equal(await win.get(c.rank), 'text', 'a failed op leaves the slot as it was');
    await win.lock('shared');
    t.throws(() => win.lock('shared'), { code: ErrorCode.InvalidArgument }, 'lock twice');
    await win.unlock();
    await win.free();
    t.throws(() => win.get(0), { code: ErrorCode.Closed }, 'use after free');
  });
});
