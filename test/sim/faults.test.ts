import t from 'tap';
import { ANY_SOURCE, ErrorCode, isDsError, simulate, type Communicator, type TraceEvent } from 'dsmpi';

const COUNT = 20;

/** Ranks 1.. send COUNT numbered messages to rank 0, which takes what arrives until 50 ms of silence. */
async function fanIn(c: Communicator): Promise<Array<[number, number]>> {
  if (c.rank !== 0) {
    for (let i = 0; i < COUNT; i++) await c.send(i, 0, 2);
    return [];
  }
  const got: Array<[number, number]> = [];
  for (;;) {
    try {
      const m = await c.recv<number>(ANY_SOURCE, 2, { timeoutMs: 50 });
      got.push([m.source, m.data]);
    } catch (err) {
      if (isDsError(err, ErrorCode.Timeout)) return got;
      throw err;
    }
  }
}

const of = (trace: TraceEvent[], ev: string) => trace.filter((e) => e.ev === ev);

t.test('drop: lost messages show as drops and never arrive', async (t) => {
  const r = await simulate({ n: 3, seed: 3, faults: { drop: 0.3 } }, fanIn);
  const drops = of(r.trace, 'drop');
  t.ok(drops.length > 0, `${drops.length} drops`);
  t.ok(drops.every((d) => d.reason === 'random'));
  const got = r.results[0]!;
  t.equal(got.length, 2 * COUNT - drops.length, 'all but the dropped arrive');
  t.equal(of(r.trace, 'deliver').length, got.length);
  t.equal(r.summary.dropped, drops.length);
  t.equal(r.summary.total.messages, 2 * COUNT);
});

t.test('stableAfterMs: no message sent from then on is dropped, duplicated or reordered', async (t) => {
  // Ranks send one message per millisecond, so about half go out after the stabilization time.
  const paced = async (c: Communicator): Promise<Array<[number, number]>> => {
    if (c.rank === 0) return fanIn(c);
    for (let i = 0; i < COUNT; i++) {
      await c.send(i, 0, 2);
      await c.clock.sleep(1);
    }
    return [];
  };
  const faults = { drop: 0.3, duplicate: 0.3, reorder: { probability: 0.5, maxMs: 3 }, stableAfterMs: 10 };
  const r = await simulate({ n: 3, seed: 6, faults }, paced);
  const sentAt = new Map(of(r.trace, 'send').map((e) => [`${e.rank}:${e.msg}`, e.t]));
  const faulty = r.trace.filter((e) => ['drop', 'duplicate', 'reorder'].includes(e.ev));
  t.ok(faulty.length > 0, `${faulty.length} faults before 10 ms`);
  t.ok(
    faulty.every((e) => sentAt.get(`${e.rank}:${e.msg}`)! < 10),
    'every fault hit a message sent before 10 ms',
  );
  t.ok(
    of(r.trace, 'send').some((e) => e.t >= 10),
    'messages were sent after 10 ms',
  );
  await t.rejects(
    simulate({ n: 2, seed: 1, faults: { stableAfterMs: -1 } }, () => 0),
    { code: 'DS_ERR_INVALID_ARGUMENT' },
  );
});

t.test('duplicate: copies show in the trace and arrive twice', async (t) => {
  const r = await simulate({ n: 2, seed: 4, faults: { duplicate: 0.3 } }, fanIn);
  const dups = of(r.trace, 'duplicate');
  t.ok(dups.length > 0, `${dups.length} duplicates`);
  t.equal(r.results[0]!.length, COUNT + dups.length);
  for (const d of dups) {
    const copies = r.trace.filter((e) => e.ev === 'deliver' && e.from === d.rank && e.msg === d.msg);
    t.equal(copies.length, 2, `message ${d.msg} delivered twice`);
  }
});

t.test('delay: every latency is within the distribution', async (t) => {
  const r = await simulate({ n: 3, seed: 5, faults: { delay: { minMs: 20, maxMs: 30 } } }, fanIn);
  const sentAt = new Map(of(r.trace, 'send').map((e) => [`${e.rank}:${e.msg}`, e.t]));
  const delivers = of(r.trace, 'deliver');
  t.equal(delivers.length, 2 * COUNT);
  for (const d of delivers) {
    const latency = d.t - sentAt.get(`${d.from}:${d.msg}`)!;
    if (!(latency >= 20 - 1e-9 && latency <= 30 + 1e-9)) t.fail(`latency ${latency} out of 20..30`);
  }
  t.ok(of(r.trace, 'send').every((e) => e.delayMs! >= 20 && e.delayMs! <= 30));
  const exp = await simulate({ n: 3, seed: 5, faults: { delay: { meanMs: 10, maxMs: 40 } } }, fanIn);
  t.ok(
    of(exp.trace, 'send').every((e) => e.delayMs! >= 0 && e.delayMs! <= 40),
    'exponential, capped',
  );
});

t.test('reorder: senders overtake each other, but never their own messages', async (t) => {
  const interleavings = new Set<string>();
  for (let seed = 1; seed <= 5; seed++) {
    const r = await simulate({ n: 4, seed, faults: { reorder: { probability: 0.5, maxMs: 10 } } }, fanIn);
    t.ok(of(r.trace, 'reorder').length > 0, `seed ${seed}: reorders traced`);
    const got = r.results[0]!;
    t.equal(got.length, 3 * COUNT);
    for (const src of [1, 2, 3]) {
      const seq = got.filter(([s]) => s === src).map(([, i]) => i);
      t.same(seq, [...Array(COUNT).keys()], `seed ${seed}: rank ${src}'s messages in send order`);
    }
    interleavings.add(got.map(([s]) => s).join(''));
  }
  t.ok(interleavings.size > 1, 'the interleaving across senders depends on the seed');
});

t.test('breakFifo lets one sender be overtaken by itself', async (t) => {
  let outOfOrder = 0;
  for (let seed = 1; seed <= 5; seed++) {
    const r = await simulate({ n: 2, seed, faults: { breakFifo: true, reorder: { probability: 0.5, maxMs: 10 } } }, fanIn);
    const seq = r.results[0]!.map(([, i]) => i);
    t.equal(seq.length, COUNT);
    if (seq.some((v, i) => i > 0 && v < seq[i - 1])) outOfOrder++;
  }
  t.ok(outOfOrder > 0, `${outOfOrder} of 5 seeds broke send order`);
});

/** Ranks 0 and 1 each send one message to the other at `atMs`, then wait up to 100 ms for one. */
const exchange = (atMs: number) => async (c: Communicator) => {
  if (c.rank > 1) return 'idle';
  await c.clock.sleep(atMs);
  await c.send(`from ${c.rank}`, 1 - c.rank, 0);
  try {
    return (await c.recv(1 - c.rank, 0, { timeoutMs: 100 })).data;
  } catch (err) {
    return (err as { code: string }).code;
  }
};

t.test('a one-way partition delivers one way only, and heals', async (t) => {
  const faults = { partitions: [{ from: 0, to: 1, atMs: 0, untilMs: 500, oneWay: true }] };
  const during = await simulate({ n: 2, seed: 1, faults }, exchange(10));
  t.same(during.results, ['from 1', ErrorCode.Timeout], '1 → 0 arrives, 0 → 1 is cut');
  const drops = of(during.trace, 'drop');
  t.equal(drops.length, 1);
  t.match(drops[0], { rank: 0, to: 1, reason: 'partition' });
  t.match(of(during.trace, 'partition')[0], { from: [0], to: [1], oneWay: true, untilMs: 500 });
  const after = await simulate({ n: 2, seed: 1, faults }, exchange(600));
  t.same(after.results, ['from 1', 'from 0'], 'healed at 500 ms');
  t.equal(of(after.trace, 'heal').length, 1);
});

t.test('a symmetric partition cuts both ways', async (t) => {
  const faults = { partitions: [{ from: [0], to: [1, 2], atMs: 0, untilMs: 500 }] };
  const r = await simulate({ n: 3, seed: 1, faults }, exchange(10));
  t.same(r.results.slice(0, 2), [ErrorCode.Timeout, ErrorCode.Timeout]);
  t.equal(of(r.trace, 'drop').filter((d) => d.reason === 'partition').length, 2);
});

t.test('random partitions are drawn from the seed and healed', async (t) => {
  const faults = { randomPartitions: { count: 3, withinMs: 50, minMs: 5, maxMs: 20, oneWayProbability: 0.5 } };
  const r = await simulate({ n: 4, seed: 11, faults }, fanIn);
  t.equal(of(r.trace, 'partition').length, 3);
  t.equal(of(r.trace, 'heal').length, 3);
  for (const p of of(r.trace, 'partition')) {
    const sides = [...(p.from as number[]), ...(p.to as number[])].sort();
    t.same(sides, [0, 1, 2, 3], 'a partition splits the ranks in two');
  }
});

t.test('pause: a paused rank takes no message and no timer until it resumes', async (t) => {
  const r = await simulate({ n: 2, seed: 1, faults: { pauses: [{ rank: 1, atMs: 1, forMs: 500 }] } }, async (c) => {
    if (c.rank === 0) {
      await c.clock.sleep(2);
      await c.send('hi', 1);
      return c.clock.now();
    }
    const timer = c.clock.sleep(5).then(() => c.clock.now());
    const m = await c.recv(0);
    return [m.data, c.clock.now(), await timer];
  });
  t.same(r.results[1], ['hi', 501, 501]);
  t.match(of(r.trace, 'pause')[0], { rank: 1, t: 1, untilMs: 501 });
  t.match(of(r.trace, 'resume')[0], { rank: 1, t: 501 });
  t.equal(of(r.trace, 'deliver')[0].t, 501);
});
