import t from 'tap';
import { ErrorCode, runLocal, simulate } from 'dsmpi';
import { pipeline } from '../../algorithms/resilient-pipeline.ts';

/** What the pipeline must sum: each of the items 0..items-1 doubled by the middle stage. */
const doubledSum = (items: number): number => Array.from({ length: items }, (_, i) => 2 * i).reduce((s, x) => s + x, 0);

t.test('revoke: pending and later operations fail with DS_ERR_REVOKED on every member', async (t) => {
  const r = await simulate({ n: 3, seed: 2 }, async (c) => {
    if (c.rank === 0) {
      await c.recv(1, 5); // rank 1 is about to revoke
      c.revoke();
      t.ok(c.revoked);
      t.throws(() => c.send(1, 1), { code: ErrorCode.Revoked });
      return 'revoked';
    }
    const pending = c.recv(0, 9); // a receive from a live rank: only a revoke can end it
    const collective = c.barrier();
    if (c.rank === 1) await c.send('go', 0, 5);
    await t.rejects(pending, { code: ErrorCode.Revoked, message: /recv\(source=0, tag=9\): the communicator was revoked/ });
    await t.rejects(collective, { code: ErrorCode.Revoked });
    t.throws(() => c.barrier(), { code: ErrorCode.Revoked });
    t.equal(await c.agree(c.rank === 1), false, 'agree works on a revoked communicator: the AND of the flags');
    const fresh = await c.shrink(); // rank 0 has finished: it takes no part
    t.equal(fresh.size, 2);
    t.equal(await fresh.allreduce(1), 2, 'the shrunk communicator works');
    return 'done';
  });
  t.same(r.results, ['revoked', 'done', 'done']);
});

t.test('agree: the AND of the flags of the members that take part, in runLocal only for one rank', async (t) => {
  const r = await simulate({ n: 4, seed: 3 }, async (c) => [await c.agree(true), await c.agree(c.rank !== 2)]);
  t.same(r.results, Array(4).fill([true, false]));
  await runLocal(2, async (c) => {
    await t.rejects(c.agree(true), { code: ErrorCode.InvalidArgument, message: /needs dsrun or simulate/ });
  });
});

t.test('the pipeline: with its middle rank crashed, the survivors revoke, shrink and finish', async (t) => {
  const items = 40;
  for (const seed of [1, 2, 3]) {
    const r = await simulate({ n: 3, seed, faults: { crashes: [{ rank: 1, atMs: 300 + 100 * seed }] }, rankErrors: 'record' }, (c) =>
      pipeline(c, { items, periodMs: 25 }),
    );
    t.same(r.crashed, [1]);
    t.same(r.errors.filter(Boolean), [], `seed ${seed}: no survivor failed`);
    t.same(r.results[0], { sum: doubledSum(items), recovered: true }, `seed ${seed}: rank 0`);
    t.same(r.results[2], { sum: doubledSum(items), recovered: true }, `seed ${seed}: rank 2`);
  }
  const calm = await simulate({ n: 3, seed: 1 }, (c) => pipeline(c, { items, periodMs: 25 }));
  t.same(calm.results[0], { sum: doubledSum(items), recovered: false }, 'without a crash: no recovery');
});
