import t from 'tap';
import { ANY_SOURCE, ErrorCode, simulate, type Communicator, SimulationError } from 'dsmpi';

/** Every rank sends to every other a few times, rank 0 gathers; order depends on the seed. */
async function chatter(c: Communicator): Promise<unknown[]> {
  for (let round = 0; round < 3; round++) {
    for (let d = 0; d < c.size; d++) if (d !== c.rank) await c.send({ round, from: c.rank }, d, 4);
    await c.clock.sleep(c.random() * 5);
  }
  const got: unknown[] = [];
  for (let i = 0; i < 3 * (c.size - 1); i++) got.push((await c.recv(ANY_SOURCE, 4)).data);
  return got;
}

t.test('the same seed gives the same trace, byte for byte; other seeds differ', async (t) => {
  const faults = { drop: 0.05, duplicate: 0.05, reorder: { probability: 0.3, maxMs: 3 } };
  const run = (seed: number) =>
    simulate({ n: 4, seed, faults: { ...faults, drop: 0 } }, chatter).then((r) => ({ jsonl: r.jsonl(), results: r.results }));
  const a = await run(42);
  const b = await run(42);
  t.ok(a.jsonl.length > 0, 'trace is not empty');
  t.equal(a.jsonl, b.jsonl, 'same seed, same trace');
  t.same(a.results, b.results, 'same seed, same results');
  const others = await Promise.all([43, 44, 45].map(run));
  for (const o of others) t.not(o.jsonl, a.jsonl, 'another seed, another trace');
});

t.test('replay identity holds with every fault switched on', async (t) => {
  const main = async (c: Communicator) => {
    const got: unknown[] = [];
    for (let i = 0; i < 10; i++) {
      await c.send(i, (c.rank + 1) % c.size, 1);
      try {
        got.push((await c.recv(ANY_SOURCE, 1, { timeoutMs: 20 })).data);
      } catch (err) {
        got.push((err as { code: string }).code);
      }
    }
    return got;
  };
  const opts = {
    n: 5,
    seed: 9,
    rankErrors: 'record' as const,
    faults: {
      drop: 0.1,
      duplicate: 0.1,
      delay: { minMs: 1, maxMs: 8 },
      reorder: { probability: 0.2, maxMs: 5 },
      randomPartitions: { count: 2, withinMs: 100, minMs: 10, maxMs: 50, oneWayProbability: 0.5 },
      randomPauses: { count: 2, withinMs: 100, minMs: 5, maxMs: 30 },
      randomCrashes: { count: 1, withinMs: 150, ranks: [3, 4], restartAfterMs: 20 },
    },
  };
  const a = await simulate(opts, main);
  const b = await simulate(opts, main);
  t.equal(a.jsonl(), b.jsonl());
  t.same(a.results, b.results);
});

t.test('virtual time: an hour of sleep takes no real hour', async (t) => {
  const started = performance.now();
  const r = await simulate({ n: 3, seed: 1, timeLimitMs: 2 * 3_600_000 }, async (c) => {
    const before = c.clock.now();
    await c.clock.sleep(3_600_000);
    const m = c.rank === 0 ? await c.recv(1, 0, { timeoutMs: 3_600_000 }) : undefined;
    if (c.rank === 1) await c.send('late', 0);
    return [before, c.clock.now(), m?.data];
  });
  const realMs = performance.now() - started;
  // Generous, so a loaded machine passes: a real hour-long wait is what it must rule out.
  t.ok(realMs < 60_000, `real time ${realMs.toFixed(1)} ms`);
  t.ok(r.timeMs >= 3_600_000, `virtual time ${r.timeMs} ms`);
  t.same(r.results[2], [0, 3_600_000, undefined]);
  t.equal((r.results[0] as unknown[])[2], 'late');
});

t.test('a deadlock fails with what each rank waits on', async (t) => {
  const err = await simulate({ n: 3, seed: 5 }, async (c) => {
    if (c.rank === 0) await c.recv(2, 9);
    if (c.rank === 1) await c.recv(ANY_SOURCE, 3);
  }).catch((e: unknown) => e);
  t.ok(err instanceof SimulationError);
  const e = err as SimulationError;
  t.equal(e.code, ErrorCode.Deadlock);
  t.equal(e.seed, 5);
  t.match(e.message, /seed 5: deadlock/);
  t.match(e.message, /rank 0: waits on recv\(source=2, tag=9\)/);
  t.match(e.message, /rank 1: waits on recv\(source=ANY_SOURCE, tag=3\)/);
  t.match(e.message, /rank 2: finished/);
});

t.test('a run past its virtual time limit fails', async (t) => {
  await t.rejects(
    simulate({ n: 2, seed: 2, timeLimitMs: 1000 }, async (c) => {
      if (c.rank === 0) await c.recv(1, 0, { timeoutMs: 5000 });
    }),
    { code: ErrorCode.TimeLimit, message: /timeLimitMs 1000/ },
  );
});

t.test('a livelock of zero-time timers hits the step limit', async (t) => {
  await t.rejects(
    simulate({ n: 1, seed: 2, maxSteps: 1000 }, async (c) => {
      for (;;) await c.clock.sleep(0);
    }),
    { code: ErrorCode.TimeLimit, message: /maxSteps/ },
  );
});

t.test("a rank's error fails the run with the seed and the rank", async (t) => {
  const err = (await simulate({ n: 2, seed: 77 }, async (c) => {
    await c.clock.sleep(3);
    if (c.rank === 1) throw new Error('invariant broken');
  }).catch((e: unknown) => e)) as SimulationError;
  t.equal(err.rank, 1);
  t.equal(err.seed, 77);
  t.match(err.message, /seed 77: rank 1 threw at 3 ms virtual time: invariant broken/);
  t.equal((err.cause as Error).message, 'invariant broken');
});

t.test("with rankErrors: 'record' the others go on", async (t) => {
  const r = await simulate({ n: 2, seed: 1, rankErrors: 'record' }, async (c) => {
    if (c.rank === 1) throw new Error('boom');
    return 'ok';
  });
  t.same(r.results, ['ok', undefined]);
  t.equal((r.errors[1] as Error).message, 'boom');
  t.match(r.jsonl(), /"ev":"exit","rank":1,"lamport":0,"reason":"boom"/);
});

t.test('abort() ends the run', async (t) => {
  await t.rejects(
    simulate({ n: 2, seed: 1 }, async (c) => {
      if (c.rank === 0) c.abort(3, 'giving up');
      await c.recv(ANY_SOURCE, 0);
    }),
    { code: ErrorCode.Aborted, message: /code 3: rank 0: giving up/ },
  );
});

t.test('bad options are refused', async (t) => {
  await t.rejects(
    simulate({ n: 0, seed: 1 }, () => 0),
    { code: ErrorCode.InvalidArgument },
  );
  await t.rejects(
    simulate({ n: 2, seed: -1 }, () => 0),
    { code: ErrorCode.InvalidArgument },
  );
  await t.rejects(
    simulate({ n: 2, seed: 1, faults: { drop: 2 } }, () => 0),
    { code: ErrorCode.InvalidArgument, message: /drop/ },
  );
  await t.rejects(
    simulate({ n: 2, seed: 1, faults: { crashes: [{ rank: 5, atMs: 1 }] } }, () => 0),
    {
      code: ErrorCode.InvalidArgument,
      message: /crashes\[0\]\.rank/,
    },
  );
  await t.rejects(
    simulate({ n: 2, seed: 1, faults: { crashes: [{ rank: 1 }] } }, () => 0),
    { message: /exactly one of/ },
  );
});
