// Chandy-Lamport (course notes D1, D2): under delays and reordering every snapshot conserves the
// money (5 ranks × 100 = 500, vector V10), its cut is consistent, and the channel states it recorded
// are exactly the Transfers in flight across that cut. Without FIFO channels it can go wrong.
import t from 'tap';
import { simulate } from 'dsmpi';
import { forEachSeed } from '../helpers/run-ranks.ts';
import { checkCut } from '../../algorithms/classic/consistent-cut.ts';
import { chandyLamport, checkSnapshot, snapshotTotal } from '../../algorithms/classic/chandy-lamport.ts';

t.test("checkCut: the notes' rule — a receive inside the cut needs its send inside", async (t) => {
  // p0: a (send m1 to 1); p1: b (recv m1), c (send m2 to 0); p0: d (recv m2).
  const events = [
    [
      { kind: 'send' as const, id: 'm1', peer: 1 },
      { kind: 'recv' as const, id: 'm2', peer: 1 },
    ],
    [
      { kind: 'recv' as const, id: 'm1', peer: 0 },
      { kind: 'send' as const, id: 'm2', peer: 0 },
    ],
  ];
  t.same(checkCut(events, [1, 0]), { consistent: true, orphans: [], inTransit: [{ id: 'm1', from: 0, to: 1 }] });
  t.same(checkCut(events, [0, 1]), { consistent: false, orphans: ['m1'], inTransit: [] }, 'b without a');
  t.same(checkCut(events, [2, 1]).orphans, ['m2']);
  t.equal(checkCut(events, [2, 2]).consistent, true);
  t.throws(() => checkCut(events, [3, 0]));
});

t.test('snapshot under delays and reordering: conserved, consistent, channel states exact', async (t) => {
  let inFlightSeen = 0;
  await forEachSeed(20, {}, async (seed) => {
    const r = await simulate({ n: 5, seed, faults: { delay: { minMs: 0.1, maxMs: 4 }, reorder: { probability: 0.3, maxMs: 4 } } }, (c) =>
      chandyLamport(c, { initiator: seed % 5 }),
    );
    const res = r.results.map((x) => x!);
    checkSnapshot(res, 500);
    inFlightSeen += res.reduce((s, x) => s + x.channels.flat().length, 0);
  });
  t.ok(inFlightSeen > 0, `the snapshots caught ${inFlightSeen} Transfers in flight`);
});

t.test('snapshot with 1 and 2 ranks', async () => {
  for (const n of [1, 2]) {
    const r = await simulate({ n, seed: 3 }, (c) => chandyLamport(c));
    checkSnapshot(
      r.results.map((x) => x!),
      100 * n,
    );
  }
});

t.test('without FIFO channels a Marker can overtake a Transfer and the snapshot loses money', async (t) => {
  let broken = 0;
  for (let seed = 1; seed <= 20; seed++) {
    const r = await simulate({ n: 5, seed, faults: { breakFifo: true, delay: { minMs: 0.1, maxMs: 4 } } }, (c) => chandyLamport(c));
    if (snapshotTotal(r.results.map((x) => x!)) !== 500) broken++;
  }
  t.ok(broken > 0, `${broken} of 20 snapshots were wrong without FIFO`);
});
