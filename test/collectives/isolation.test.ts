import t from 'tap';
import { ANY_SOURCE, ANY_TAG, ErrorCode, isDsError, runLocal, type Communicator } from 'dsmpi';

t.setTimeout(20_000);

async function someCollectives(c: Communicator): Promise<unknown[]> {
  await c.barrier();
  return [
    await c.bcast(c.rank === 1 % c.size ? 'b' : null, 1 % c.size),
    await c.allreduce(c.rank, 'sum'),
    await c.allgather(c.rank),
    await c.alltoall(Array.from({ length: c.size }, (_, j) => j)),
    await c.scan(1),
    await c.reduce(1, 'sum', c.size - 1),
    await c.gather(c.rank, 0),
    await c.scatter(c.rank === 0 ? Array.from({ length: c.size }, (_, j) => j) : undefined, 0),
  ];
}

t.test('wildcard receives posted during collectives take no collective message', async (t) => {
  const n = 5;
  const results = await runLocal(n, async (c) => {
    const wild = c.irecv(ANY_SOURCE, ANY_TAG);
    const probe = c.probe(ANY_SOURCE, ANY_TAG);
    const coll = await someCollectives(c);
    const stillPending = !wild.done && !probe.done && c.iprobe() === undefined;
    // Everyone is past the collectives: now real p2p traffic arrives at the wildcard.
    await c.barrier();
    await c.send(`from ${c.rank}`, (c.rank + 1) % n, 42);
    const m = await wild;
    return { coll, stillPending, source: m.source, tag: m.tag, data: m.data };
  });
  for (const [r, res] of results.entries()) {
    t.ok(res.stillPending, `rank ${r}: wildcard receive and probe stayed pending through the collectives`);
    const all = [0, 1, 2, 3, 4];
    t.same(res.coll, ['b', 10, all, Array(n).fill(r), r + 1, r === n - 1 ? n : undefined, r === 0 ? all : undefined, r]);
    t.same([res.source, res.tag, res.data], [(r - 1 + n) % n, 42, `from ${(r - 1 + n) % n}`]);
  }
});

t.test('pending user messages are not taken by collectives', async (t) => {
  const results = await runLocal(3, async (c) => {
    // Every rank sends user messages with tags that a collective's tags could equal (0, 1, 64).
    for (const tag of [0, 1, 64]) await c.send({ tag, from: c.rank }, (c.rank + 1) % 3, tag);
    await c.barrier(); // the user messages are now waiting unreceived
    const coll = await someCollectives(c);
    const got = [];
    for (let i = 0; i < 3; i++) got.push((await c.recv(ANY_SOURCE, ANY_TAG)).data);
    return { coll, got };
  });
  for (const [r, res] of results.entries()) {
    const from = (r + 2) % 3;
    t.same(
      res.got,
      [0, 1, 64].map((tag) => ({ tag, from })),
      `rank ${r} receives its user messages, in order`,
    );
    t.equal(res.coll[1], 3, 'allreduce is right');
  }
});

t.test('consecutive and concurrent collectives do not mix', async (t) => {
  const results = await runLocal(5, async (c) => {
    const reqs = Array.from({ length: 20 }, (_, i) => c.iallreduce([c.rank * i, 1], 'sum'));
    const bc = Array.from({ length: 5 }, (_, root) => c.ibcast(c.rank === root ? `root ${root}` : null, root));
    return { sums: await Promise.all(reqs.map((r) => r.then())), bc: await Promise.all(bc.map((r) => r.then())) };
  });
  for (const res of results) {
    t.same(
      res.sums,
      Array.from({ length: 20 }, (_, i) => [10 * i, 5]),
    );
    t.same(
      res.bc,
      [0, 1, 2, 3, 4].map((r) => `root ${r}`),
    );
  }
});

t.test('wrong use throws a DsError at once, before any I/O', async (t) => {
  await runLocal(3, async (c) => {
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (err) {
        return isDsError(err) ? err.code : `not a DsError: ${String(err)}`;
      }
      return undefined;
    };
    if (c.rank === 0) {
      t.equal(
        code(() => c.scatter([1, 2], 0)),
        ErrorCode.InvalidArgument,
        'scatter with 2 chunks for 3 ranks',
      );
      t.equal(
        code(() => c.scatter(undefined, 0)),
        ErrorCode.InvalidArgument,
        'scatter without chunks at root',
      );
      t.equal(
        code(() => c.alltoall([1])),
        ErrorCode.InvalidArgument,
        'alltoall with 1 chunk',
      );
      t.equal(
        code(() => c.bcast(1, 3)),
        ErrorCode.InvalidRank,
        'bcast root 3 of 3',
      );
      t.equal(
        code(() => c.reduce(1, 'sum', -1)),
        ErrorCode.InvalidRank,
        'reduce root -1',
      );
      t.equal(
        code(() => c.gather(1, 1.5)),
        ErrorCode.InvalidRank,
        'gather root 1.5',
      );
      t.equal(
        code(() => c.allreduce(1, 'avg' as 'sum')),
        ErrorCode.InvalidArgument,
        'unknown op',
      );
      t.equal(
        code(() => c.allreduce(1.5, 'band')),
        ErrorCode.InvalidArgument,
        "'band' on a fraction",
      );
      t.equal(
        code(() => c.allreduce('x' as unknown as number, 'sum')),
        ErrorCode.InvalidArgument,
        "'sum' on a string",
      );
      t.equal(
        code(() => c.bcast(new Map(), 0)),
        ErrorCode.Unencodable,
        'bcast of a Map',
      );
    }
    // None of those took a sequence number: the ranks still agree.
    t.equal(await c.allreduce(1), 3);
  });
});

t.test('an op that fails on the data rejects on every rank instead of hanging', async (t) => {
  const results = await runLocal(5, async (c) => {
    const lengths = await c.allreduce(c.rank === 3 ? [1, 2] : [1, 2, 3], 'sum').then(
      () => 'resolved',
      (err: unknown) => (isDsError(err) ? err.code : String(err)),
    );
    const thrown = await c
      .allreduce(c.rank, (a: number, b: number) => {
        if (b === 2) throw new Error('no twos');
        return a + b;
      })
      .then(
        () => 'resolved',
        (err: unknown) => (isDsError(err) ? `${err.code} ${err.message}` : String(err)),
      );
    return { lengths, thrown, after: await c.allreduce(1) };
  });
  for (const res of results) {
    t.equal(res.lengths, ErrorCode.OpFailed);
    t.match(res.thrown, /DS_ERR_OP_FAILED .*no twos/);
    t.equal(res.after, 5, 'the communicator still works');
  }
});
