import t from 'tap';
import { ErrorCode, isDsError, runLocal, startLocal } from 'dsmpi';

t.setTimeout(20_000);

const codeOf = (err: unknown): string => (isDsError(err) ? err.code : String(err));

for (const n of [2, 5]) {
  t.test(`atomicity: ${n} ranks × 1000 fetchAndOp(1, 'sum') on a counter hosted by rank ${n - 1}`, async (t) => {
    const results = await runLocal(n, async (c) => {
      const counter = await c.counter({ root: n - 1, initial: 0 });
      const seen: number[] = [];
      for (let i = 0; i < 1000; i++) seen.push(await counter.fetchAndOp(1, 'sum'));
      await c.barrier();
      return { seen, final: await counter.get() };
    });
    const all = results.flatMap((r) => r.seen).sort((a, b) => a - b);
    t.equal(results[0].final, n * 1000, 'ends at exactly n × 1000');
    t.same(
      all,
      Array.from({ length: n * 1000 }, (_, i) => i),
      'every previous value is distinct: 0 .. n×1000-1',
    );
    for (const r of results)
      t.ok(
        r.seen.every((v, i) => i === 0 || v > r.seen[i - 1]),
        'each rank sees increasing values',
      );
  });
}

t.test('max, min, replace and compareAndSwap return the value before', async (t) => {
  const [res] = await runLocal(2, async (c) => {
    const counter = await c.counter({ root: 1, initial: 10 });
    if (c.rank !== 0) return [];
    return [
      await counter.fetchAndOp(5, 'max'), // 10, stays 10
      await counter.fetchAndOp(20, 'max'), // 10 → 20
      await counter.fetchAndOp(3, 'min'), // 20 → 3
      await counter.fetchAndOp(7, 'replace'), // 3 → 7
      await counter.compareAndSwap(8, 100), // 7, fails
      await counter.compareAndSwap(7, 100), // 7 → 100
      await counter.get(), // 100
    ];
  });
  t.same(res, [10, 10, 20, 3, 7, 7, 100]);
});

t.test('a CAS spin lock gives mutual exclusion', async (t) => {
  const n = 5;
  const rounds = 40;
  const results = await runLocal(n, async (c) => {
    const lock = await c.counter({ root: 0 }); // 0 = free, r + 1 = held by r
    const win = await c.window({ root: 0, length: 2 }); // [0]: plain (racy) counter, [1]: occupancy
    let maxInside = 0;
    for (let i = 0; i < rounds; i++) {
      while ((await lock.compareAndSwap(0, c.rank + 1)) !== 0) {
        // spin: every attempt is a round trip to the host
      }
      const inside = (await win.fetchAndOp(1, 1, 'sum')) + 1;
      maxInside = Math.max(maxInside, inside);
      const v = await win.get(0); // read-modify-write with no atomicity of its own
      await win.put(0, v + 1);
      await win.fetchAndOp(1, -1, 'sum');
      t.equal(await lock.compareAndSwap(c.rank + 1, 0), c.rank + 1, 'the lock was ours when released');
    }
    await win.fence();
    return { maxInside, total: await win.get(0) };
  });
  for (const r of results) {
    t.equal(r.maxInside, 1, 'never two ranks in the critical section');
    t.equal(r.total, n * rounds, 'no lost update');
  }
});

t.test('the host keeps serving while its program is blocked in a recv', async (t) => {
  const results = await runLocal(4, async (c) => {
    const counter = await c.counter({ root: 0 });
    if (c.rank === 0) {
      // Blocked until rank 1 has seen all 600 increments, which only the host's runtime can apply.
      const m = await c.recv(1, 7);
      return { seenByRank1: m.data, atHost: await counter.get() };
    }
    for (let i = 0; i < 200; i++) await counter.fetchAndOp(1);
    if (c.rank !== 1) {
      await c.send('done', 1, 8);
      return undefined;
    }
    await c.recv(2, 8);
    await c.recv(3, 8);
    await c.send(await counter.get(), 0, 7);
    return undefined;
  });
  t.same(results[0], { seenByRank1: 600, atHost: 600 });
});

t.test('host death: pending and later operations reject with DS_ERR_PEER_LOST', async (t) => {
  const job = startLocal({ n: 3 }, async (c) => {
    const counter = await c.counter({ root: 0 });
    await counter.fetchAndOp(1);
    await c.barrier();
    if (c.rank === 0) return {}; // the host's program ends; its runtime would keep serving
    if (c.rank === 1) {
      const pending = counter.fetchAndOp(1);
      job.network.kill(0, 'crashed'); // before the request is delivered
      const pendingCode = await pending.then(() => 'resolved', codeOf);
      await c.send('killed', 2, 1);
      const laterCode = await counter.get().then(() => 'resolved', codeOf);
      return { pendingCode, laterCode };
    }
    await c.recv(1, 1);
    const laterCode = await counter.fetchAndOp(1).then(() => 'resolved', codeOf);
    const barrierCode = await c.barrier().then(() => 'resolved', codeOf);
    return { laterCode, barrierCode };
  });
  try {
    const [, r1, r2] = await job.results;
    t.same(r1, { pendingCode: ErrorCode.PeerLost, laterCode: ErrorCode.PeerLost });
    t.same(r2, { laterCode: ErrorCode.PeerLost, barrierCode: ErrorCode.PeerLost });
  } finally {
    await Promise.all(job.comms.map((c) => c.engine.shutdown()));
  }
});

t.test('counter argument errors throw at once', async (t) => {
  await runLocal(2, async (c) => {
    t.throws(() => c.counter({ root: 2 }), { code: ErrorCode.InvalidRank });
    const counter = await c.counter();
    t.throws(() => counter.fetchAndOp(1, 'prod' as 'sum'), { code: ErrorCode.InvalidArgument });
    t.throws(() => counter.fetchAndOp('1' as unknown as number), { code: ErrorCode.InvalidArgument });
    await c.barrier();
  });
});
