import t from 'tap';
import { ANY_SOURCE, ANY_TAG, ErrorCode, isDsError, runLocal, UNDEFINED } from 'dsmpi';

t.setTimeout(20_000);

t.test('split renumbers by key, then by old rank; UNDEFINED gives undefined', async (t) => {
  const n = 8;
  const results = await runLocal(n, async (c) => {
    // color: rank % 3, but rank 7 opts out; key: descending rank, ties broken by old rank.
    const color = c.rank === 7 ? UNDEFINED : c.rank % 3;
    const sub = await c.split(color, c.rank < 4 ? 0 : -c.rank);
    if (!sub) return undefined;
    const members = await sub.allgather(c.rank);
    return { rank: sub.rank, size: sub.size, members, sum: await sub.allreduce(c.rank) };
  });
  t.equal(results[7], undefined, 'UNDEFINED color gives undefined');
  // color 0: ranks 0, 3, 6 with keys 0, 0, -6 → order 6, 0, 3
  // color 1: ranks 1, 4 with keys 0, -4 → order 4, 1
  // color 2: ranks 2, 5 with keys 0, -5 → order 5, 2
  const want: Record<number, number[]> = { 0: [6, 0, 3], 1: [4, 1], 2: [5, 2] };
  for (let r = 0; r < 7; r++) {
    const members = want[r % 3];
    t.same(results[r], { rank: members.indexOf(r), size: members.length, members, sum: members.reduce((a, b) => a + b) }, `rank ${r}`);
  }
});

t.test('communicators are isolated from each other, wildcards included', async (t) => {
  const results = await runLocal(4, async (c) => {
    const d = await c.dup();
    const half = (await c.split(c.rank % 2, c.rank))!;
    // Wildcard receives on all three communicators at once.
    const onWorld = c.irecv(ANY_SOURCE, ANY_TAG);
    const onDup = d.irecv(ANY_SOURCE, ANY_TAG);
    const onHalf = half.irecv(ANY_SOURCE, ANY_TAG);
    // Send on the dup first, then the half, then the world, same tag.
    await d.send('dup', (d.rank + 1) % d.size, 5);
    await half.send('half', (half.rank + 1) % half.size, 5);
    await c.send('world', (c.rank + 3) % c.size, 5);
    const got = [(await onWorld).data, (await onDup).data, (await onHalf).data];
    // Collectives on each, interleaved.
    const sums = [await d.allreduce(1), await half.allreduce(1), await c.allreduce(1)];
    return { got, sums, dupRank: d.rank, halfRank: half.rank };
  });
  for (const [r, res] of results.entries()) {
    t.same(res.got, ['world', 'dup', 'half'], `rank ${r}`);
    t.same(res.sums, [4, 2, 4]);
    t.equal(res.dupRank, r);
    t.equal(res.halfRank, r >> 1);
  }
});

t.test('a fast rank may use the new communicator before a slow one has made it', async (t) => {
  const results = await runLocal(8, async (c) => {
    const got: unknown[] = [];
    for (let round = 0; round < 10; round++) {
      const sub = (await c.split(c.rank % 2))!;
      // Send at once: others may still be finishing split; the engine keeps early messages.
      const sending = sub.send(round, (sub.rank + 1) % sub.size, 0);
      got.push((await sub.recv(ANY_SOURCE, 0)).data, await sub.allreduce(1));
      await sending;
      const d = await sub.dup();
      got.push(await d.bcast(d.rank === 0 ? `r${round}` : null));
    }
    return got;
  });
  for (const res of results) t.same(res, Array.from({ length: 10 }, (_, r) => [r, 4, `r${r}`]).flat());
});

t.test('free: pending operations reject; later collectives and point-to-point calls throw DS_ERR_CLOSED', async (t) => {
  const results = await runLocal(3, async (c) => {
    const d = await c.dup();
    await d.barrier();
    const pending = d.irecv(ANY_SOURCE, ANY_TAG);
    d.free();
    const pendingCode = await pending.then(
      () => 'resolved',
      (err: unknown) => (isDsError(err) ? err.code : String(err)),
    );
    let thrown: string | undefined;
    try {
      d.barrier();
    } catch (err) {
      thrown = isDsError(err) ? err.code : String(err);
    }
    const p2p = [() => d.send(1, 0), () => d.isend(1, 0), () => d.recv(), () => d.irecv(), () => d.probe(), () => d.iprobe()].map((op) => {
      try {
        op();
        return 'no error';
      } catch (err) {
        return isDsError(err) ? err.code : String(err);
      }
    });
    return { pendingCode, thrown, p2p, world: await c.allreduce(1) };
  });
  const closed = new Array(6).fill(ErrorCode.Closed);
  for (const res of results) t.same(res, { pendingCode: ErrorCode.Closed, thrown: ErrorCode.Closed, p2p: closed, world: 3 });
});

t.test('split argument errors throw at once', async (t) => {
  await runLocal(2, async (c) => {
    t.throws(() => c.split(-7), { code: ErrorCode.InvalidArgument });
    t.throws(() => c.split(1, 0.5), { code: ErrorCode.InvalidArgument });
    t.equal(await c.allreduce(1), 2);
  });
});
