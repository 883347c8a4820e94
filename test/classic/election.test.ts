// Elections (course notes F1, F2): every live rank agrees on the highest live id, and the ring
// election's message count matches 3N−1 (worst case) and 2N (best case).
import assert from 'node:assert/strict';
import t from 'tap';
import { simulate } from 'dsmpi';
import { forEachSeed } from '../helpers/run-ranks.ts';
import { mergeCounts, sumCounts } from '../../algorithms/classic/common.ts';
import { ringElection, ringElectionMessages } from '../../algorithms/classic/ring-election.ts';
import { bully } from '../../algorithms/classic/bully.ts';

t.test('ring election: worst case 3N−1, best case 2N (14 and 10 at N = 5)', async (t) => {
  t.equal(ringElectionMessages(5, 0), 14);
  t.equal(ringElectionMessages(5, 4), 10);
  for (const n of [1, 2, 5, 8]) {
    for (const initiator of [0, n - 1, Math.floor(n / 2)]) {
      const r = await simulate({ n, seed: n + initiator }, (c) => ringElection(c, { initiators: [initiator] }));
      const res = r.results.map((x) => x!);
      t.same(new Set(res.map((x) => x.leader)), new Set([n - 1]), `n=${n}, initiator ${initiator}: all choose ${n - 1}`);
      t.equal(
        sumCounts(mergeCounts(res.map((x) => x.sent))),
        ringElectionMessages(n, initiator),
        `n=${n}, initiator ${initiator}: messages`,
      );
    }
  }
});

t.test('ring election: random ids and concurrent initiators still agree on the largest id', async () => {
  await forEachSeed(10, {}, async (seed) => {
    const n = 7;
    const ids = Array.from({ length: n }, (_, r) => ((r * 37 + seed * 11) % 101) + r * 101);
    const initiators = [seed % n, (seed * 3) % n, (seed * 5 + 1) % n];
    const r = await simulate({ n, seed, faults: { delay: { minMs: 0.1, maxMs: 5 } } }, (c) => ringElection(c, { ids, initiators }));
    for (const x of r.results) assert.equal(x!.leader, Math.max(...ids));
  });
});

t.test("bully, the notes' scenario: p4 is down, p3 crashes before announcing → p1 and p2 choose p2", async (t) => {
  const r = await simulate({ n: 4, seed: 1 }, (c) => bully(c, { down: [3], crashBeforeAnnouncing: [2] }));
  t.same(
    r.results.map((x) => x!.leader),
    [1, 1, undefined, undefined],
  );
});

t.test('bully with real crash-stops: every live rank chooses the highest live rank', async () => {
  await forEachSeed(10, {}, async (seed) => {
    const n = 6;
    const dead = [n - 1, ...(seed % 2 === 0 ? [n - 2] : []), ...(seed % 3 === 0 ? [1] : [])];
    // One live rank starts the election (a starter crashed at 0 ms may never run at all).
    const candidates = [0, 1, 2, 3].filter((rank) => !dead.includes(rank));
    const starters = [candidates[seed % candidates.length]];
    const r = await simulate(
      { n, seed, faults: { delay: { minMs: 0.1, maxMs: 2 }, crashes: dead.map((rank) => ({ rank, atMs: 0 })) } },
      (c) => bully(c, { starters }),
    );
    const live = r.results.map((x, rank) => ({ x, rank })).filter((e) => !dead.includes(e.rank));
    const highest = Math.max(...live.map((e) => e.rank));
    for (const e of live) assert.equal(e.x!.leader, highest, `rank ${e.rank} chose ${e.x!.leader}, not ${highest}`);
  });
});

t.test('bully: all start at once and nobody is down: the highest rank wins', async () => {
  await forEachSeed(5, {}, async (seed) => {
    const r = await simulate({ n: 5, seed }, (c) => bully(c, { starters: [0, 1, 2, 3, 4] }));
    for (const x of r.results) assert.equal(x!.leader, 4);
  });
});
