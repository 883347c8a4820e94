// Clock synchronisation (course notes B2, B3) on drifting simulated clocks: the notes' vectors for the
// formulas, and after a run every clock within the bound the algorithm claims (checkClockSync).
import assert from 'node:assert/strict';
import t from 'tap';
import { simulate } from 'dsmpi';
import { forEachSeed } from '../helpers/run-ranks.ts';
import { cristian, cristianEstimate } from '../../algorithms/classic/cristian.ts';
import { berkeley, berkeleyAverage } from '../../algorithms/classic/berkeley.ts';
import { checkClockSync, maxSkew, type ClockReport } from '../../algorithms/classic/drifting-clock.ts';

t.test('Cristian, vector V4: T1=100 T2=150 T3=152 T4=110 → δ=8, θ=+46, new time 156, ±4', async (t) => {
  t.same(cristianEstimate(100, 150, 152, 110), { rttMs: 8, offsetMs: 46, newTimeMs: 156, errorMs: 4 });
});

t.test('Berkeley, vector V5: 3:00, 2:50, 3:25 → 3:05; +5, +15, −20; a 5:00 outlier left out (−115)', async (t) => {
  const a = berkeleyAverage([0, -10, 25]);
  t.same(a, { averageMs: 5, included: [true, true, true], adjustmentsMs: [5, 15, -20] });
  const b = berkeleyAverage([0, -10, 25, 120], 30);
  t.same(b, { averageMs: 5, included: [true, true, true, false], adjustmentsMs: [5, 15, -20, -115] });
  t.equal(
    b.adjustmentsMs.filter((_, i) => b.included[i]).reduce((x, y) => x + y, 0),
    0,
    'the mean is preserved',
  );
});

function checkSkew(reports: ClockReport[]): void {
  checkClockSync(reports);
  const end = Math.max(...reports.map((r) => r.syncedAtMs));
  const { beforeMs, afterMs } = maxSkew(reports, end);
  if (reports.length > 1) assert.ok(afterMs < beforeMs, 'the sync made the clocks closer');
}

t.test('Cristian: every client within δ/2 of the server, under asymmetric random delays', async () => {
  await forEachSeed(10, {}, async (seed) => {
    const r = await simulate({ n: 5, seed, faults: { delay: { minMs: 0.1, maxMs: 5 } } }, (c) => cristian(c));
    checkSkew(r.results.map((x) => x!.report));
  });
});

t.test("Berkeley: all clocks within the bound of the master's corrected clock", async () => {
  await forEachSeed(10, {}, async (seed) => {
    const r = await simulate({ n: 5, seed, faults: { delay: { minMs: 0.1, maxMs: 5 } } }, (c) => berkeley(c, { toleranceMs: 5000 }));
    checkSkew(r.results.map((x) => x!.report));
    const avg = r.results[0]!.average!;
    assert.ok(Math.abs(avg.adjustmentsMs.filter((_, i) => avg.included[i]).reduce((a, b) => a + b, 0)) < 1e-6);
  });
});
