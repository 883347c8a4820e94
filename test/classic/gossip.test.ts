// Push gossip (course notes K1): every rank learns the rumour, in about log2 N + ln N rounds.
import assert from 'node:assert/strict';
import t from 'tap';
import { simulate } from 'dsmpi';
import { forEachSeed } from '../helpers/run-ranks.ts';
import { gossip } from '../../algorithms/classic/gossip.ts';

/** Pittel (1987): push gossip with fanout 1 informs all N ranks in log2 N + ln N + O(1) rounds. */
const pittel = (n: number): number => Math.log2(n) + Math.log(n);

t.test('push gossip reaches all N ranks in O(log N) rounds', async (t) => {
  const n = 16;
  const rounds: number[] = [];
  await forEachSeed(6, {}, async (seed) => {
    const r = await simulate({ n, seed }, (c) => gossip(c));
    const res = r.results.map((x) => x!);
    assert.ok(
      res.every((x) => x.learntInRound >= 0),
      'everyone learnt it',
    );
    const k = res[0].rounds;
    assert.equal(res[0].informedPerRound[k], n);
    assert.ok(k >= Math.ceil(Math.log2(n)), 'at least log2 N rounds: the informed at most double each round');
    assert.ok(k <= 2 * pittel(n), `${k} rounds > 2 (log2 N + ln N)`);
    for (let i = 1; i <= k; i++) assert.ok(res[0].informedPerRound[i] <= 2 * res[0].informedPerRound[i - 1]);
    assert.equal(
      res.reduce((s, x) => s + x.pushes, 0),
      res[0].informedPerRound.slice(0, k).reduce((a, b) => a + b, 0),
      'one push per informed rank per round',
    );
    rounds.push(k);
  });
  const mean = rounds.reduce((a, b) => a + b, 0) / rounds.length;
  t.ok(Math.abs(mean - pittel(n)) < 4, `mean ${mean} rounds, log2 N + ln N = ${pittel(n).toFixed(1)}`);
});

t.test('gossip with 1 and 2 ranks', async (t) => {
  t.equal((await simulate({ n: 1, seed: 1 }, (c) => gossip(c))).results[0]!.rounds, 0);
  t.equal((await simulate({ n: 2, seed: 1 }, (c) => gossip(c))).results[1]!.learntInRound, 1);
});
