import t from 'tap';
import assert from 'node:assert/strict';
import type { Communicator } from 'dsmpi';
import { runSeeds } from '../helpers/run-ranks.ts';

// Collectives run on their own contexts; under the simulator they must agree whatever the
// interleaving, and their traffic is counted apart from the program's tags.
t.test('allreduce and barrier agree on every seed with delays and reordering', async (t) => {
  const main = async (c: Communicator) => {
    const sum = await c.allreduce(c.rank + 1, 'sum');
    await c.barrier();
    const max = await c.allreduce(c.rank * 3, 'max');
    return [sum, max];
  };
  const n = 6;
  const seeds = await runSeeds(
    20,
    n,
    main,
    { faults: { delay: { minMs: 0, maxMs: 20 }, reorder: { probability: 0.3, maxMs: 10 } } },
    (r) => {
      for (const v of r.results) assert.deepEqual(v, [(n * (n + 1)) / 2, 3 * (n - 1)]);
      assert.ok(r.summary.collective.messages > 0);
      assert.deepEqual(r.summary.perTag, {}, 'no point-to-point traffic of the program');
    },
  );
  t.equal(seeds.length, 20);
});
