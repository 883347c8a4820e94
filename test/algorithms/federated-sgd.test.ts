// Federated linear regression (book 8.6, exercise 8): FedAvg and SGD units, then simulated runs
// that must learn the ground truth, with a client crashing and a straggler left out by the timeout.
import t from 'tap';
import assert from 'node:assert/strict';
import { simulate } from 'dsmpi';
import {
  defaultFedAvgOptions,
  fedAvg,
  fedAvgMain,
  generate,
  mse,
  sgd,
  type FedAvgResult,
  type Model,
} from '../../algorithms/federated/fedavg.ts';
import { forEachSeed } from '../helpers/run-ranks.ts';

const truth = defaultFedAvgOptions.truth;
const close = (m: Model, tol = 0.1): boolean => Math.max(...m.w.map((w, i) => Math.abs(w - truth.w[i])), Math.abs(m.b - truth.b)) <= tol;

t.test('fedAvg weighs each model by its sample count', async (t) => {
  t.same(
    fedAvg([
      { model: { w: [1, 0], b: 0 }, count: 1 },
      { model: { w: [4, 3], b: 3 }, count: 2 },
    ]),
    { w: [3, 2], b: 2 },
  );
  t.equal(fedAvg([]), undefined, 'nobody reported: keep the old model');
});

t.test('sgd on one shard fits the line and lowers the loss', async (t) => {
  let s = 7;
  const random = (): number => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const data = generate(random, 200, truth, 0.1);
  const start = { w: [0, 0], b: 0 };
  const m = sgd(start, data, 5, 0.05, random);
  t.ok(mse(m, data) < 0.05 && mse(start, data) > 1, `loss ${mse(start, data).toFixed(3)} → ${mse(m, data).toFixed(4)}`);
  t.ok(close(m, 0.15));
});

const run = async (seed: number, n: number, options: Parameters<typeof fedAvgMain>[1], faults = {}): Promise<FedAvgResult> => {
  const r = await simulate({ n, seed, faults, timeLimitMs: 120_000 }, (comm) => fedAvgMain(comm, options));
  return r.results[0]!;
};

t.test('learns the ground truth with data generated locally and scattered from rank 0', async (t) => {
  await forEachSeed(3, {}, async (seed) => {
    for (const data of ['local', 'scatter'] as const) {
      const r = await run(seed, 5, { data, rounds: 8 });
      assert.ok(close(r.model), `${data}: ${JSON.stringify(r.model)}`);
      assert.ok(r.rounds.at(-1)!.loss < r.rounds[0].loss / 10, 'the loss falls');
      assert.ok(
        r.rounds.every((x) => x.reported.length === 4 && x.messages === 8),
        'everyone in every round, 2 messages per client',
      );
    }
  });
  t.pass();
});

t.test('bcast + reduce rounds give the same kind of model (everyone in every round)', async (t) => {
  await forEachSeed(2, {}, async (seed) => {
    for (const data of ['local', 'scatter'] as const) {
      const r = await run(seed, 4, {
        data,
        rounds: 8,
        aggregation: 'collective',
      });
      assert.ok(close(r.model), `${data}: ${JSON.stringify(r.model)}`);
      assert.ok(r.rounds.at(-1)!.loss < r.rounds[0].loss / 10, 'the loss falls');
    }
  });
  t.pass();
});

t.test('dropout: a crashed client and a straggler are left out after the timeout; training still converges', async (t) => {
  await forEachSeed(3, { first: 10 }, async (seed) => {
    const r = await run(
      seed,
      6,
      { rounds: 8, stragglers: [2], roundTimeoutMs: 50 },
      { crashes: [{ rank: 4, atMs: 60 }], delay: { minMs: 0.1, maxMs: 2 } },
    );
    assert.ok(close(r.model), JSON.stringify(r.model));
    const odd = r.rounds.filter((x) => x.round % 2 === 1);
    assert.ok(
      odd.every((x) => !x.reported.includes(2)),
      'the straggler misses odd rounds',
    );
    assert.ok(
      r.rounds.filter((x) => x.round % 2 === 0).some((x) => x.reported.includes(2)),
      'and is back in even ones',
    );
    assert.ok(!r.rounds.at(-1)!.reported.includes(4), 'the crashed client is gone');
    assert.ok(r.rounds.at(-1)!.asked === 4, 'and no longer asked once known dead');
  });
  t.pass();
});
