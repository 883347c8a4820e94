// Ordered multicast (course notes C4, C5) under reordering delays: the same total order at every
// rank (and the bank replicas agree); causal order respected at every rank, even without FIFO.
import assert from 'node:assert/strict';
import t from 'tap';
import { simulate } from 'dsmpi';
import { forEachSeed } from '../helpers/run-ranks.ts';
import { applyOp, totalOrderMulticast } from '../../algorithms/classic/total-order-multicast.ts';
import { causalBroadcast, causalViolation, deliverable } from '../../algorithms/classic/causal-broadcast.ts';

const reordering = { delay: { minMs: 0.1, maxMs: 4 }, reorder: { probability: 0.4, maxMs: 5 } };

t.test('the bank vector V32: $1000, +$100 and +1% give $1111 or $1110 by order', async (t) => {
  const dep = { op: 'deposit' as const, amount: 100 };
  const int = { op: 'interest' as const, percent: 1 };
  t.equal(applyOp(applyOp(1000, dep), int), 1111);
  t.equal(applyOp(applyOp(1000, int), dep), 1110);
});

t.test('totally ordered multicast: identical delivery order everywhere, in (ts, sender) order', async () => {
  await forEachSeed(10, {}, async (seed) => {
    const n = 4;
    const r = await simulate({ n, seed, faults: reordering }, (c) => totalOrderMulticast(c, { count: 3 }));
    const res = r.results.map((x) => x!);
    const order = res[0].delivered.map((d) => `${d.ts}:${d.sender}`);
    assert.equal(order.length, n * 3);
    for (const x of res) {
      assert.deepEqual(
        x.delivered.map((d) => `${d.ts}:${d.sender}`),
        order,
        `rank ${x.rank} delivered in another order`,
      );
      assert.equal(x.balance, res[0].balance, 'replicas agree');
    }
    for (let i = 1; i < res[0].delivered.length; i++) {
      const [a, b] = [res[0].delivered[i - 1], res[0].delivered[i]];
      assert.ok(a.ts < b.ts || (a.ts === b.ts && a.sender < b.sender), 'ordered by (ts, sender)');
    }
  });
});

t.test('causal broadcast: the delivery rule', async (t) => {
  const m = { id: '1:0', sender: 1, text: 'Yes', vc: [1, 1, 0] };
  t.notOk(deliverable(m, [0, 0, 0]), 'not before the question it answers');
  t.ok(deliverable(m, [1, 0, 0]));
  t.notOk(deliverable({ ...m, vc: [1, 2, 0] }, [1, 0, 0]), 'not before the earlier one from the same sender');
  const q = { id: '0:0', sender: 0, text: 'Lunch?', vc: [1, 0, 0] };
  const no = { id: '2:0', sender: 2, text: 'No', vc: [1, 0, 1] };
  t.equal(causalViolation([q, m, no]), undefined, '(Alice, Bob, Carl) is fine');
  t.equal(causalViolation([q, no, m]), undefined, '(Alice, Carl, Bob) is fine');
  t.same(causalViolation([m, q, no]), ['0:0', '1:0'], '(Bob, Alice, Carl) is not');
});

t.test('causal broadcast: causal order at every rank under reordering, with and without FIFO', async () => {
  await forEachSeed(10, {}, async (seed) => {
    const n = 5;
    const faults = seed % 2 ? reordering : { ...reordering, breakFifo: true };
    const r = await simulate({ n, seed, faults }, (c) => causalBroadcast(c, { count: 3 }));
    for (const x of r.results.map((y) => y!)) {
      assert.equal(x.delivered.length, n * 3);
      assert.equal(new Set(x.delivered.map((d) => d.id)).size, n * 3, 'each message delivered once');
      const v = causalViolation(x.delivered);
      assert.equal(v, undefined, `rank ${x.rank} delivered ${v?.[0]} before ${v?.[1]} which happened before it`);
    }
  });
});

t.test('without the hold-back queue, some run delivers a reply before its question', async (t) => {
  let broken = 0;
  for (let seed = 1; seed <= 20; seed++) {
    const r = await simulate({ n: 5, seed, faults: reordering }, (c) => causalBroadcast(c, { count: 3, holdBack: false }));
    if (r.results.some((x) => causalViolation(x!.delivered))) broken++;
  }
  t.ok(broken > 0, `${broken} of 20 runs broke causal order`);
});
