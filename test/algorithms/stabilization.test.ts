// Stabilization (book 4.4): converges for any n, keeps the mean, pulls a perturbed rank back.
import t from 'tap';
import assert from 'node:assert/strict';
import type { Communicator } from 'dsmpi';
import { stabilizationStep, stabilize } from '../../algorithms/stabilization.ts';
import { runSeeds } from '../helpers/run-ranks.ts';

t.test('the step moves a fraction of the distance, or nothing when within the threshold', async (t) => {
  t.same(stabilizationStep(10, 20, 0.5, 0.5), { next: 15, adjusted: true, diff: 10 });
  const s = stabilizationStep(19.8, 20, 0.5, 0.5);
  t.same([s.next, s.adjusted], [19.8, false]);
});

t.test('every n converges within the threshold, the mean kept, after a perturbation too', async (t) => {
  for (const n of [1, 2, 3, 5, 8, 16]) {
    await runSeeds(
      n >= 8 ? 3 : 6,
      n,
      async (c: Communicator) => {
        const initial = 10 * c.rank + Math.floor(c.random() * 10);
        return stabilize(c, initial, { perturb: { rank: n - 1, by: 50 } });
      },
      { faults: { delay: { minMs: 0.1, maxMs: 10 }, reorder: { probability: 0.3, maxMs: 10 } } },
      (r) => {
        const res = r.results.map((x) => x!);
        // Stable ranks do not move, so the mean drifts a little (less than the threshold).
        const start = (res.reduce((s, x) => s + x.initial, 0) + 50) / n;
        for (const x of res) {
          assert.ok(x.stable);
          assert.equal(x.mean, res[0].mean, 'every rank saw the same mean');
          assert.ok(Math.abs(x.final - x.mean) <= 0.5 + 1e-9, `final ${x.final} vs mean ${x.mean}`);
          assert.ok(Math.abs(x.mean - start) <= 0.5 + 1e-9, `mean ${x.mean} vs ${start}`);
          assert.equal(x.rounds.length, 2);
        }
      },
    );
    t.pass(`n = ${n}`);
  }
});
