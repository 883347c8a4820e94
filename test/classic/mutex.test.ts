// Mutual exclusion (course notes E1–E4): safety checked from the recorded enter/exit times in
// virtual time, every entry made, and messages per entry against each algorithm's formula.
import assert from 'node:assert/strict';
import t from 'tap';
import { simulate } from 'dsmpi';
import { forEachSeed } from '../helpers/run-ranks.ts';
import { findOverlap, mergeCounts, sumCounts, type MutexResult } from '../../algorithms/classic/common.ts';
import { centralMutex, stepCoordinator, Tag as CentralTag } from '../../algorithms/classic/central-mutex.ts';
import { tokenRing } from '../../algorithms/classic/token-ring.ts';
import { initialRa, raMessagesPerEntry, ricartAgrawala, stepRa, Tag as RaTag } from '../../algorithms/classic/ricart-agrawala.ts';
import {
  gridVotingSets,
  initialMaekawa,
  maekawa,
  maekawaMessagesPerEntry,
  stepMaekawa,
  Tag as MkTag,
} from '../../algorithms/classic/maekawa.ts';

const faults = { delay: { minMs: 0.1, maxMs: 3 }, reorder: { probability: 0.3, maxMs: 3 } };

function checkRun(results: (MutexResult | undefined)[], entriesExpected: number): { entries: number; messages: number } {
  const all = results.map((r) => r!);
  const intervals = all.flatMap((r) => r.intervals);
  const overlap = findOverlap(intervals);
  assert.equal(overlap, undefined, `ME1: two ranks in the critical section at once: ${JSON.stringify(overlap)}`);
  assert.equal(intervals.length, entriesExpected, 'every requested entry was made');
  for (const i of intervals) assert.ok(i.exitMs > i.enterMs);
  return { entries: intervals.length, messages: sumCounts(mergeCounts(all.map((r) => r.sent))) };
}

t.test('findOverlap finds two sections that overlap, and not touching ones', async (t) => {
  t.same(
    findOverlap([
      { rank: 0, enterMs: 0, exitMs: 1 },
      { rank: 1, enterMs: 1, exitMs: 2 },
    ]),
    undefined,
  );
  t.ok(
    findOverlap([
      { rank: 0, enterMs: 0, exitMs: 1.5 },
      { rank: 1, enterMs: 1, exitMs: 2 },
    ]),
  );
});

t.test('central server: safe under delays and reordering; exactly 3 messages per entry', async (t) => {
  await forEachSeed(5, {}, async (seed) => {
    const r = await simulate({ n: 5, seed, faults }, (c) => centralMutex(c, { entries: 3 }));
    const { entries, messages } = checkRun(r.results, 3 * 4);
    assert.equal(messages, 3 * entries, 'Request, Grant and Release');
    assert.equal(r.summary.perTag[CentralTag.Request].messages, entries, 'the simulator counts the same');
  });
  // A Release from a rank that does not hold the right changes nothing.
  const [s, g] = stepCoordinator({ holder: 1, queue: [2] }, { source: 2, tag: CentralTag.Release });
  t.same([s, g], [{ holder: 1, queue: [2] }, undefined]);
});

t.test('token ring: safe, every entry made', async () => {
  await forEachSeed(5, {}, async (seed) => {
    const r = await simulate({ n: 5, seed, faults }, (c) => tokenRing(c, { entries: 3 }));
    checkRun(r.results, 15);
  });
});

t.test('Ricart-Agrawala: 41 vs 34 — the earlier stamp enters first (notes E3)', async (t) => {
  const p = [initialRa(0, 3), initialRa(1, 3), initialRa(2, 3)];
  p[0].clock = 40;
  p[1].clock = 33;
  const [, req0] = stepRa(p[0], { type: 'want' });
  stepRa(p[1], { type: 'want' });
  t.same(
    req0.map((o) => [o.to, o.data]),
    [
      [1, { ts: 41 }],
      [2, { ts: 41 }],
    ],
  );
  // p3 (rank 2) is idle and answers both; p1 (rank 0) answers p2 (34 < 41); p2 defers p1.
  const [, a] = stepRa(p[2], { type: 'message', source: 0, tag: RaTag.Request, data: { ts: 41 } });
  const [, b] = stepRa(p[2], { type: 'message', source: 1, tag: RaTag.Request, data: { ts: 34 } });
  t.same(
    [...a, ...b].map((o) => o.to),
    [0, 1],
  );
  const [, c] = stepRa(p[0], { type: 'message', source: 1, tag: RaTag.Request, data: { ts: 34 } });
  t.same(c, [{ to: 1, tag: RaTag.Ok, data: null }]);
  const [, d] = stepRa(p[1], { type: 'message', source: 0, tag: RaTag.Request, data: { ts: 41 } });
  t.same(d, [], 'p2 defers p1');
  stepRa(p[1], { type: 'message', source: 0, tag: RaTag.Ok, data: null });
  stepRa(p[1], { type: 'message', source: 2, tag: RaTag.Ok, data: null });
  t.equal(p[1].state, 'held', 'p2 (stamp 34) enters');
  stepRa(p[0], { type: 'message', source: 2, tag: RaTag.Ok, data: null });
  t.equal(p[0].state, 'wanted', 'p1 still waits for p2');
  const [, e] = stepRa(p[1], { type: 'exit' });
  t.same(e, [{ to: 0, tag: RaTag.Ok, data: null }], 'p2 answers p1 on leaving');
  stepRa(p[0], { type: 'message', source: 1, tag: RaTag.Ok, data: null });
  t.equal(p[0].state, 'held');
});

t.test('Ricart-Agrawala: safe under reordering; exactly 2(N−1) messages per entry (8 at N = 5)', async () => {
  await forEachSeed(5, {}, async (seed) => {
    const r = await simulate({ n: 5, seed, faults }, (c) => ricartAgrawala(c, { entries: 3 }));
    const { entries, messages } = checkRun(r.results, 15);
    assert.equal(raMessagesPerEntry(5), 8);
    assert.equal(messages, raMessagesPerEntry(5) * entries);
    assert.equal(r.summary.perTag[RaTag.Ok].messages, 4 * entries, 'the simulator counts the same');
  });
});

t.test('Maekawa: grid voting sets (notes vector V13) pairwise intersect', async (t) => {
  const v = gridVotingSets(9);
  t.same(v[0], [0, 1, 2, 3, 6]);
  t.same(v[4], [1, 3, 4, 5, 7]);
  t.same(v[8], [2, 5, 6, 7, 8]);
  for (const n of [1, 2, 3, 5, 7, 10, 16]) {
    const s = gridVotingSets(n);
    for (let i = 0; i < n; i++) {
      assert.ok(s[i].includes(i));
      for (let j = 0; j < n; j++)
        assert.ok(
          s[i].some((x) => s[j].includes(x)),
          `n=${n}: V${i} ∩ V${j} is empty`,
        );
    }
  }
});

t.test('Maekawa step: an earlier request makes the voter inquire, and a failed holder relinquishes', async (t) => {
  // Voter rank 1 is locked for (5, rank 2); (3, rank 0) arrives: Inquire to 2; no Failed to 0.
  const voter = initialMaekawa(1, [0, 1, 2]);
  voter.lockedFor = [5, 2];
  const [, out] = stepMaekawa(voter, { type: 'message', source: 0, tag: MkTag.Request, data: { ts: 3 } });
  t.same(out, [{ to: 2, tag: MkTag.Inquire, data: { ts: 5 } }]);
  // A later request (9, rank 2') gets Failed.
  const [, out2] = stepMaekawa(voter, { type: 'message', source: 2, tag: MkTag.Request, data: { ts: 9 } });
  t.same(out2, [{ to: 2, tag: MkTag.Failed, data: { ts: 9 } }]);
  // Requester rank 2 holds one vote (from 1), was inquired, then gets Failed elsewhere: gives it back.
  const req = initialMaekawa(2, [0, 1, 2]);
  req.clock = 4;
  stepMaekawa(req, { type: 'want' });
  stepMaekawa(req, { type: 'message', source: 1, tag: MkTag.Locked, data: { ts: 5 } });
  const [, o1] = stepMaekawa(req, { type: 'message', source: 1, tag: MkTag.Inquire, data: { ts: 5 } });
  t.same(o1, [], 'no reason to yield yet');
  const [, o2] = stepMaekawa(req, { type: 'message', source: 0, tag: MkTag.Failed, data: { ts: 5 } });
  t.same(o2, [{ to: 1, tag: MkTag.Relinquish, data: { ts: 5 } }]);
  // The voter takes it back and votes for the earlier request.
  const [, o3] = stepMaekawa(voter, { type: 'message', source: 2, tag: MkTag.Relinquish, data: { ts: 5 } });
  t.same(o3, [{ to: 0, tag: MkTag.Locked, data: { ts: 3 } }]);
});

t.test('Maekawa: safe and live under reordering; uncontended entries cost 3(K−1)', async () => {
  await forEachSeed(5, {}, async (seed) => {
    const r = await simulate({ n: 9, seed, faults }, (c) => maekawa(c, { entries: 2 }));
    const { entries, messages } = checkRun(r.results, 18);
    assert.ok(messages >= maekawaMessagesPerEntry(5) * entries, 'at least 3(K−1) per entry');
  });
  // One rank alone asking: exactly 3(K−1) = 12 messages at N = 9.
  const r = await simulate({ n: 9, seed: 1 }, (c) => maekawa(c, { entries: c.rank === 4 ? 1 : 0 }));
  assert.equal(sumCounts(mergeCounts(r.results.map((x) => x!.sent))), maekawaMessagesPerEntry(5));
});

t.test('Maekawa: the naive rules deadlock on the cycle V0={0,1}, V1={1,2}, V2={2,0}; the fix does not', async (t) => {
  const sets = [
    [0, 1],
    [1, 2],
    [2, 0],
  ];
  let deadlocks = 0;
  for (let seed = 1; seed <= 10; seed++) {
    try {
      await simulate({ n: 3, seed }, (c) => maekawa(c, { entries: 3, thinkMs: 0, sets, avoidDeadlock: false }));
    } catch (err) {
      assert.equal((err as { code?: string }).code, 'DS_ERR_DEADLOCK');
      deadlocks++;
    }
  }
  t.ok(deadlocks > 0, `the naive rules deadlocked in ${deadlocks} of 10 seeds`);
  await forEachSeed(10, {}, async (seed) => {
    const r = await simulate({ n: 3, seed }, (c) => maekawa(c, { entries: 3, thinkMs: 0, sets }));
    checkRun(r.results, 9);
  });
});
