// Failure detector (book 3.3): pure steps, then completeness and eventual accuracy over many seeds.
import t from 'tap';
import { checkDetector } from '../../algorithms/checkers/consensus-invariants.ts';
import {
  defaultDetector,
  detectorMain,
  detectorWakeAt,
  startDetector,
  stepDetector,
  suspects,
  Tag,
} from '../../algorithms/failure-detector.ts';
import type { Input } from '../../algorithms/common/serve.ts';
import { forEachSeed, runRanks } from '../helpers/run-ranks.ts';
import { simulate } from 'dsmpi';

const tick = (nowMs: number): Input => ({ type: 'tick', nowMs, random: 0.5, failed: [] });
const msg = (source: number, tag: number, data: unknown, nowMs: number): Input => ({
  type: 'message',
  source,
  tag,
  data,
  nowMs,
  random: 0.5,
});

t.test('step: heartbeats to all others each period; a silent peer is suspected and announced', async (t) => {
  const s = startDetector(0, 3, 0);
  const [, first] = stepDetector(s, tick(0));
  t.same(first, [
    { to: 1, tag: Tag.Heartbeat, data: null },
    { to: 2, tag: Tag.Heartbeat, data: null },
  ]);
  stepDetector(s, msg(1, Tag.Heartbeat, null, 30));
  const at = detectorWakeAt(s);
  t.ok(at <= defaultDetector.periodMs, 'wakes for the next beat');
  const [, out] = stepDetector(s, tick(defaultDetector.timeoutMs + 1));
  t.same(suspects(s), [2], 'rank 2 silent past its timeout, rank 1 heard at 30 ms');
  t.same(
    out.filter((m) => m.tag === Tag.Suspect),
    [
      { to: 1, tag: Tag.Suspect, data: { rank: 2 } },
      { to: 2, tag: Tag.Suspect, data: { rank: 2 } },
    ],
  );
});

t.test('step: a false suspicion is revised and the peer gets a longer timeout (benefit of the doubt)', async (t) => {
  const s = startDetector(0, 2, 0);
  stepDetector(s, tick(100));
  t.same(suspects(s), [1]);
  stepDetector(s, msg(1, Tag.Heartbeat, null, 101));
  t.same(suspects(s), []);
  t.equal(s.peers[1].timeoutMs, defaultDetector.timeoutMs + defaultDetector.backoffMs);
  t.equal(s.falseSuspicions, 1);
});

t.test('step: a rank suspected by another answers Alive to all; SUSPECT names the payload rank', async (t) => {
  const s = startDetector(1, 3, 0);
  const [, out] = stepDetector(s, msg(0, Tag.Suspect, { rank: 1 }, 5));
  t.same(out, [
    { to: 0, tag: Tag.Alive, data: { rank: 1 } },
    { to: 2, tag: Tag.Alive, data: { rank: 1 } },
  ]);
  const [, none] = stepDetector(s, msg(0, Tag.Suspect, { rank: 2 }, 6));
  t.same(none, [], 'a suspicion of someone else is only news');
  t.same(suspects(s), []);
});

const SEEDS = Number(process.env.DSMPI_DETECTOR_SEEDS ?? 300);

t.test(`simulation, ${SEEDS} seeds: crash of a minority under delay, reorder and a healed partition`, async (t) => {
  const ran = await forEachSeed(SEEDS, {}, async (seed) => {
    const n = 3 + (seed % 4);
    const crashes = Math.floor((n - 1) / 2);
    const r = await simulate(
      {
        n,
        seed,
        faults: {
          randomCrashes: { count: crashes, withinMs: 150 },
          delay: { minMs: 0.1, maxMs: 5 },
          reorder: { probability: 0.2, maxMs: 5 },
          randomPartitions: { count: 1, withinMs: 100, minMs: 20, maxMs: 80 },
        },
      },
      (c) => detectorMain(c, 400),
    );
    checkDetector(
      r.results.map((x) => x?.suspects),
      r.crashed,
    );
  });
  t.ok(ran.length > 0);
});

t.test(`simulation, ${SEEDS} seeds: completeness under 10% message loss`, async (t) => {
  await forEachSeed(SEEDS, { first: 1000 }, async (seed) => {
    const r = await simulate({ n: 5, seed, faults: { drop: 0.1, crashes: [{ rank: seed % 5, atMs: 50 }] } }, (c) => detectorMain(c, 300));
    checkDetector(
      r.results.map((x) => x?.suspects),
      r.crashed,
      { accuracy: false },
    );
  });
  t.pass();
});

t.test('one replayable run: the crashed rank is suspected by all, nobody else', async (t) => {
  const r = await runRanks(4, (c) => detectorMain(c, 300), { faults: { crashes: [{ rank: 2, atMs: 100 }] } });
  t.same(r.results, [
    { rank: 0, suspects: [2], falseSuspicions: 0 },
    { rank: 1, suspects: [2], falseSuspicions: 0 },
    undefined,
    { rank: 3, suspects: [2], falseSuspicions: 0 },
  ]);
});
