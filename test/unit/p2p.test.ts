import t from 'tap';
import { ANY_SOURCE, ANY_TAG, DsError, PROC_NULL, runLocal, startLocal, waitAll, waitAny } from 'dsmpi';

const code = (err: unknown): string | undefined => (err instanceof DsError ? err.code : undefined);

t.test('a receive matches by source and tag, leaving other messages queued', async (t) => {
  const [got] = await runLocal(3, async (c) => {
    if (c.rank === 0) {
      const fromTwo = await c.recv(2, ANY_TAG);
      const tagOne = await c.recv(ANY_SOURCE, 1);
      return [fromTwo, tagOne, c.iprobe()];
    }
    await c.send(`from ${c.rank}`, 0, c.rank);
    return undefined;
  });
  t.same(got, [{ source: 2, tag: 2, data: 'from 2' }, { source: 1, tag: 1, data: 'from 1' }, undefined]);
});

t.test('wildcards, probe and iprobe', async (t) => {
  const [r0] = await runLocal(2, async (c) => {
    if (c.rank === 1) {
      await c.send({ a: 1 }, 0, 42);
      return undefined;
    }
    const status = await c.probe(ANY_SOURCE, ANY_TAG);
    const peeked = c.iprobe(1, 42);
    const none = c.iprobe(1, 43);
    const m = await c.recv(status.source, status.tag);
    return { status, peeked, none, m, after: c.iprobe() };
  });
  t.same(r0, {
    status: { source: 1, tag: 42 },
    peeked: { source: 1, tag: 42 },
    none: undefined,
    m: { source: 1, tag: 42, data: { a: 1 } },
    after: undefined,
  });
});

t.test('sending to oneself, PROC_NULL, sendrecv in a ring', async (t) => {
  const results = await runLocal(4, async (c) => {
    const payload = { list: [1, 2] };
    await c.send(payload, c.rank, 3);
    payload.list.push(3);
    const self = await c.recv(c.rank, 3);
    await c.send('nothing', PROC_NULL);
    const nul = await c.recv(PROC_NULL);
    const ring = await c.sendrecv(c.rank, (c.rank + 1) % c.size, 0, (c.rank + c.size - 1) % c.size, 0);
    return { self: self.data, nullSource: nul.source, ring: ring.data };
  });
  for (const [r, res] of results.entries()) {
    t.same(res, { self: { list: [1, 2] }, nullSource: PROC_NULL, ring: (r + 3) % 4 }, `rank ${r}`);
  }
});

t.test('argument errors throw at once, before anything is sent', async (t) => {
  await runLocal(2, async (c) => {
    if (c.rank !== 0) return;
    t.throws(() => c.send(1, 7), { code: 'DS_ERR_INVALID_RANK', message: /rank 7 is not valid; size is 2/ });
    t.throws(() => c.send(1, -5), { code: 'DS_ERR_INVALID_RANK' });
    t.throws(() => c.send(1, 1, -1), { code: 'DS_ERR_INVALID_ARGUMENT', message: /tag -1/ });
    t.throws(() => c.send(1, 1, 1.5), { code: 'DS_ERR_INVALID_ARGUMENT' });
    t.throws(() => c.recv(9), { code: 'DS_ERR_INVALID_RANK' });
    t.throws(() => c.send(() => 1, 1), { code: 'DS_ERR_UNENCODABLE', message: /is a function/ });
    t.throws(() => c.send({ m: new Map() }, 1), { code: 'DS_ERR_UNENCODABLE', message: /\.m is a Map/ });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    t.throws(() => c.send(cyclic, 1), { code: 'DS_ERR_UNENCODABLE', message: /cycle/ });
    t.equal(c.iprobe(), undefined);
  });
  // Rank 1 got nothing from all that.
});

t.test('payload over maxPayload is refused with a clear error', async (t) => {
  await runLocal({ n: 2, maxPayload: 1000 }, async (c) => {
    if (c.rank === 0)
      t.throws(() => c.send(new Uint8Array(2000), 1), { code: 'DS_ERR_PAYLOAD_TOO_LARGE', message: /over the limit of 1000/ });
  });
});

t.test('requests: test(), cancel(), timeouts, waitAll and waitAny', async (t) => {
  await runLocal(2, async (c) => {
    if (c.rank === 1) {
      await c.recv(0, 9);
      await c.send('late', 0, 2);
      return;
    }
    const r = c.irecv(1, 1);
    t.same(r.test(), { done: false });
    t.equal(r.cancel(), true);
    await t.rejects(Promise.resolve(r), { code: 'DS_ERR_CANCELLED' });
    t.equal(r.cancel(), false, 'a finished request cannot be cancelled');

    const start = c.clock.now();
    await t.rejects(c.recv(1, 1, { timeoutMs: 50 }), { code: 'DS_ERR_TIMEOUT', message: /recv\(source=1, tag=1\) timed out after 50 ms/ });
    t.ok(c.clock.now() - start >= 45, 'waited about the timeout');

    const a = c.irecv(1, 2);
    const b = c.irecv(1, 3);
    await c.send('go', 1, 9);
    const first = await waitAny([b, a]);
    t.same(first, { index: 1, value: { source: 1, tag: 2, data: 'late' } });
    t.same(a.test(), { done: true, value: { source: 1, tag: 2, data: 'late' } });
    b.cancel();
    t.same(await waitAll([c.isend(1, PROC_NULL), c.isend(2, PROC_NULL)]), [undefined, undefined]);
  });
});

t.test('a lost peer fails receives waiting on it and later sends to it', async (t) => {
  const job = startLocal({ n: 3 }, async (c) => {
    if (c.rank === 2) return 'victim';
    const waiting = c.recv(2, 0);
    if (c.rank === 0) await c.send('ready', 1);
    else await c.recv(0);
    if (c.rank === 1) job.network.kill(2);
    const err = await waiting.then(
      () => undefined,
      (e: unknown) => e,
    );
    const sendErr = await c.send('x', 2).then(
      () => undefined,
      (e: unknown) => e,
    );
    return [code(err), code(sendErr)];
  });
  const results = await job.results;
  t.same(results.slice(0, 2), [
    ['DS_ERR_PEER_LOST', 'DS_ERR_PEER_LOST'],
    ['DS_ERR_PEER_LOST', 'DS_ERR_PEER_LOST'],
  ]);
  await Promise.all(job.comms.map((c) => c.engine.shutdown()));
});

t.test('abort() ends the local job with its code and reason', async (t) => {
  await t.rejects(
    runLocal(2, async (c) => {
      if (c.rank === 1) c.abort(3, 'giving up');
      await c.recv(1);
    }),
    { code: 'DS_ERR_ABORTED', message: /code 3: rank 1: giving up/ },
  );
});
