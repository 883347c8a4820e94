import t from 'tap';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ANY_SOURCE, ANY_TAG, formatTrace, parseTrace, simulate, SimulationError, summarizeTrace, type Communicator } from 'dsmpi';
import { forEachSeed, replayCommand, runRanks, runSeeds } from '../helpers/run-ranks.ts';

/** Each rank sends its rank to rank 0 with tag 10 + rank; rank 0 sums them. */
async function gather(c: Communicator): Promise<number> {
  if (c.rank !== 0) {
    await c.send(c.rank, 0, 10 + c.rank);
    return 0;
  }
  let sum = 0;
  for (let i = 1; i < c.size; i++) sum += (await c.recv<number>(ANY_SOURCE, ANY_TAG)).data;
  return sum;
}

function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  for (const [k, v] of Object.entries(vars)) if (v === undefined) delete process.env[k];
  return fn().finally(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
}

t.test('the replay command names the seed and this test file', async (t) => {
  t.equal(replayCommand(1234), 'DSMPI_SEED=1234 npx tap test/sim/helpers.test.ts');
});

t.test('forEachSeed runs the seeds in order and reports the first failing one with its replay command', async (t) => {
  await withEnv({ DSMPI_SEED: undefined, DSMPI_SEEDS: undefined }, async () => {
    const seen: number[] = [];
    t.same(await forEachSeed(4, { first: 10 }, (s) => void seen.push(s)), [10, 11, 12, 13]);
    t.same(seen, [10, 11, 12, 13]);
    const err = (await forEachSeed(10, {}, (seed) => {
      assert.ok(seed !== 3, 'seed 3 is bad');
    }).catch((e: unknown) => e)) as Error;
    t.match(err.message, /^seed 3 failed: seed 3 is bad\n {2}replay: DSMPI_SEED=3 npx tap test\/sim\/helpers\.test\.ts$/);
  });
});

t.test('DSMPI_SEED runs only that seed', async (t) => {
  await withEnv({ DSMPI_SEED: '77' }, async () => {
    t.same(await forEachSeed(50, {}, () => {}), [77]);
    const r = await runRanks(3, gather, { seed: 5 });
    t.equal(r.seed, 77);
  });
  await withEnv({ DSMPI_SEED: undefined, DSMPI_SEEDS: '2' }, async () => {
    t.same(await forEachSeed(50, {}, () => {}), [1, 2], 'DSMPI_SEEDS overrides the count');
  });
});

t.test('runRanks: a failing run carries its replay command', async (t) => {
  await withEnv({ DSMPI_SEED: undefined }, async () => {
    const r = await runRanks(4, gather, { seed: 6 });
    t.same(r.results, [6, 0, 0, 0]);
    await t.rejects(
      runRanks(2, async (c) => c.recv(1 - c.rank, 0), { seed: 12 }),
      { code: 'DS_ERR_DEADLOCK', message: /DSMPI_SEED=12 npx tap test\/sim\/helpers\.test\.ts/ },
    );
  });
});

t.test('runSeeds checks an invariant over many seeds, with faults', async (t) => {
  await withEnv({ DSMPI_SEED: undefined, DSMPI_SEEDS: undefined }, async () => {
    const seeds = await runSeeds(
      30,
      5,
      gather,
      { faults: { delay: { minMs: 0, maxMs: 50 }, reorder: { probability: 0.3, maxMs: 20 } } },
      (r) => {
        assert.equal(r.results[0], 10);
      },
    );
    t.equal(seeds.length, 30);
  });
});

t.test('traces: JSONL round trip, and summaries of messages and bytes per rank and tag', async (t) => {
  const r = await simulate({ n: 3, seed: 2, faults: { duplicate: 0 } }, gather);
  const text = r.jsonl();
  t.equal(text, formatTrace(parseTrace(text)), 'parse then format gives the same bytes');
  const lines = text.trimEnd().split('\n');
  t.equal(lines.length, r.trace.length);
  t.match(JSON.parse(lines[0]), { t: 0, ev: 'run', seed: 2 }, 'a trace opens with its seed');
  t.match(JSON.parse(lines[1]), { t: 0, ev: 'send', rank: 1, lamport: 1, to: 0, msg: 1, kind: 0, ctx: 0, tag: 11 });
  const deliver = r.trace.find((e) => e.ev === 'deliver')!;
  t.ok(deliver.lamport! >= 2, 'Lamport time: a delivery comes after its send');
  const s = summarizeTrace(parseTrace(text), 3);
  t.same(s, r.summary);
  t.same(s.total, { messages: 2, bytes: r.trace.filter((e) => e.ev === 'send').reduce((a, e) => a + e.bytes!, 0) });
  t.same(Object.keys(s.perTag).sort(), ['11', '12']);
  t.equal(s.perRank[0].received, 2);
  t.equal(s.perRank[1].sent, 1);
  t.equal(s.perRank[0].sent, 0);
  t.throws(() => parseTrace('{"t":1}\n'), /line 1/);
});

t.test('the trace option writes the JSONL file, also for a failed run', async (t) => {
  const dir = t.testdir({});
  const ok = join(dir, 'ok.jsonl');
  const r = await simulate({ n: 3, seed: 4, trace: ok }, gather);
  t.equal(readFileSync(ok, 'utf8'), r.jsonl());
  const bad = join(dir, 'bad.jsonl');
  const err = (await simulate({ n: 2, seed: 4, trace: bad }, async (c) => c.recv(1 - c.rank, 0)).catch(
    (e: unknown) => e,
  )) as SimulationError;
  t.equal(readFileSync(bad, 'utf8'), formatTrace(err.trace));
});
