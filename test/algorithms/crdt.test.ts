// CRDTs (book 5.2): merge laws on seeded random states, and convergence of anti-entropy and of the
// distributed hashmap in the simulator under drops, duplicates, reordering and healing partitions.
import t from 'tap';
import assert from 'node:assert/strict';
import { simulate, type Communicator, type FaultOptions } from 'dsmpi';
import {
  gcounterCanonical,
  gcounterEmpty,
  gcounterIncrement,
  gcounterMerge,
  gcounterValue,
  type GCounter,
} from '../../algorithms/crdt/gcounter.ts';
import { lwwCanonical, lwwDelete, lwwEmpty, lwwMerge, lwwPut, lwwVisible, type LwwMap } from '../../algorithms/crdt/lww-map.ts';
import { gossipUntilConverged } from '../../algorithms/crdt/anti-entropy.ts';
import { ReplicatedMap, majority, majorityRead, serveReads } from '../../algorithms/crdt/replicated-map.ts';
import { Tag as CrdtTag } from '../../algorithms/crdt/tags.ts';
import { checkConverged, checkMergeLaws } from '../../algorithms/checkers/crdt.ts';
import { forEachSeed, runSeeds } from '../helpers/run-ranks.ts';

/** A small seeded generator for test data (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
const int = (r: () => number, k: number) => Math.floor(r() * k);

function randomCounter(r: () => number): GCounter {
  let c = gcounterEmpty();
  for (let i = int(r, 5); i > 0; i--) c = gcounterIncrement(c, int(r, 6), int(r, 4));
  return c;
}
function randomLww(r: () => number): LwwMap<string> {
  let m = lwwEmpty<string>();
  for (let i = int(r, 6); i > 0; i--) {
    const key = 'abcd'[int(r, 4)];
    const stamp = { ts: 1 + int(r, 4), node: int(r, 4) };
    // The same (ts, node) always writes the same thing, as in a real run (one write per stamp).
    m = stamp.ts % 3 === 0 ? lwwDelete(m, key, stamp) : lwwPut(m, key, `${key}${stamp.ts}@${stamp.node}`, stamp);
  }
  return m;
}

t.test('merge laws: commutative, associative, idempotent (seeded random states)', async (t) => {
  await forEachSeed(40, {}, (seed) => {
    const r = rng(seed);
    checkMergeLaws(
      Array.from({ length: 5 }, () => randomCounter(r)),
      gcounterMerge,
      gcounterCanonical,
    );
    checkMergeLaws(
      Array.from({ length: 5 }, () => randomLww(r)),
      lwwMerge,
      lwwCanonical,
    );
  });
  t.pass('40 seeds × 125 triples for each type');
});

t.test('G-Counter and LWW map basics, and the book lww-map script', async (t) => {
  const c = gcounterMerge(gcounterIncrement(gcounterEmpty(), 0, 2), gcounterIncrement(gcounterEmpty(), 1, 3));
  t.equal(gcounterValue(c), 5);
  t.equal(gcounterValue(gcounterMerge(c, c)), 5);
  t.throws(() => gcounterIncrement(c, 0, -1));
  const script = (n: number): LwwMap<string>[] =>
    [
      lwwPut(lwwPut(lwwEmpty<string>(), 'a', 'v1@r0', { ts: 1, node: 0 }), 'b', 'v1@r0', { ts: 2, node: 0 }),
      lwwDelete(lwwPut(lwwEmpty<string>(), 'a', 'v2@r1', { ts: 1, node: 1 }), 'b', { ts: 2, node: 1 }),
      lwwPut(lwwEmpty<string>(), 'c', 'v1@r2', { ts: 1, node: 2 }),
      lwwPut(lwwEmpty<string>(), 'c', 'v2@r3', { ts: 1, node: 3 }),
    ].slice(0, n);
  const merged = (n: number) => lwwVisible(script(n).reduce((a, b) => lwwMerge(a, b), lwwEmpty<string>()));
  t.same(merged(4), { a: 'v2@r1', c: 'v2@r3' }, 'n ≥ 4 (the book)');
  t.same(merged(3), { a: 'v2@r1', c: 'v1@r2' });
  t.same(merged(2), { a: 'v2@r1' });
  t.same(merged(1), { a: 'v1@r0', b: 'v1@r0' });
  const revived = lwwMerge(
    lwwDelete(lwwEmpty<string>(), 'k', { ts: 5, node: 0 }),
    lwwPut(lwwEmpty<string>(), 'k', 'old', { ts: 4, node: 9 }),
  );
  t.same(lwwVisible(revived), {}, 'a tombstone beats an older put that arrives later');
  t.same([1, 2, 3, 4, 5, 9].map(majority), [1, 2, 2, 3, 3, 5]);
});

const faults = (n: number): FaultOptions => ({
  drop: 0.2,
  duplicate: 0.1,
  reorder: { probability: 0.3, maxMs: 30 },
  delay: { minMs: 0.1, maxMs: 5 },
  partitions: n >= 2 ? [{ from: [0], to: Array.from({ length: n - 1 }, (_, i) => i + 1), atMs: 0, untilMs: 300 }] : [],
  randomPartitions: n >= 3 ? { count: 2, withinMs: 400, minMs: 50, maxMs: 200 } : undefined,
});

t.test('G-Counter anti-entropy converges to the sum under drops, duplicates, reordering and healed partitions', async (t) => {
  for (const n of [1, 2, 3, 5, 8]) {
    await runSeeds(
      n >= 8 ? 8 : 15,
      n,
      async (comm: Communicator) => {
        let c = gcounterEmpty();
        for (let i = 0; i <= comm.rank; i++) c = gcounterIncrement(c, comm.rank, 1 + Math.floor(comm.random() * 3));
        const g = await gossipUntilConverged(comm, { merge: gcounterMerge, canonical: gcounterCanonical }, c);
        return { canonical: g.converged ? gcounterCanonical(g.state) : undefined, mine: c };
      },
      { faults: faults(n) },
      (r) => {
        const expected = r.results.map((x) => x!.mine).reduce(gcounterMerge, gcounterEmpty());
        checkConverged(
          r.results.map((x) => x?.canonical),
          gcounterCanonical(expected),
        );
      },
    );
    t.pass(`n = ${n}`);
  }
});

t.test('the distributed hashmap: every replica ends with the same map, the latest stamp winning, under faults', async (t) => {
  for (const n of [1, 2, 3, 5, 8]) {
    await runSeeds(
      n >= 8 ? 8 : 15,
      n,
      async (comm: Communicator) => {
        const map = new ReplicatedMap<number>(comm.rank);
        const writes: Array<{ key: string; value: number | null; ts: number; node: number }> = [];
        // Different values for one key on every rank, plus scattered puts and deletes.
        const w = (key: string, value: number | null) => {
          const s = value === null ? map.delete(key) : map.put(key, value);
          writes.push({ key, value, ...s });
        };
        w('KEN', 100 + comm.rank);
        for (let i = Math.floor(comm.random() * 4); i > 0; i--)
          w('k' + Math.floor(comm.random() * 3), comm.random() < 0.3 ? null : comm.rank);
        const first = await map.sync(comm, { epoch: 0 });
        // A second phase: a write after seeing everything beats every earlier stamp, whatever the rank.
        if (comm.rank === 0) w('KEN', -1);
        const second = await map.sync(comm, { epoch: 1 });
        return { canonical: first.converged && second.converged ? lwwCanonical(map.state) : undefined, writes, visible: map.visible() };
      },
      { faults: faults(n) },
      (r) => {
        checkConverged(r.results.map((x) => x?.canonical));
        // Reference: the highest (ts, node) write per key.
        const all = r.results.flatMap((x) => x!.writes);
        const ref: Record<string, number> = {};
        for (const key of [...new Set(all.map((w) => w.key))].sort()) {
          const win = all.filter((w) => w.key === key).sort((a, b) => b.ts - a.ts || b.node - a.node)[0];
          if (win.value !== null) ref[key] = win.value;
        }
        assert.deepEqual(r.results[0]!.visible, ref);
        assert.equal(ref.KEN, -1, 'the later write wins over higher ranks');
      },
    );
    t.pass(`n = ${n}`);
  }
});

t.test('majority read: ⌊n/2⌋+1 replies, the highest stamp, with a minority crashed and messages lost', async (t) => {
  const n = 5;
  await runSeeds(
    15,
    n,
    async (comm: Communicator) => {
      const map = new ReplicatedMap<number>(comm.rank);
      // Only ranks 0..2 (a majority) hold KEN; the newest write is rank 2's (ts 2).
      if (comm.rank <= 2) map.put('KEN', 10 + comm.rank);
      if (comm.rank === 2) map.put('KEN', 99);
      const server = serveReads(comm, map);
      const read = comm.rank === 3 ? await majorityRead(comm, map, 'KEN', { retryMs: 20, timeoutMs: 3000 }) : undefined;
      await comm.clock.sleep(3500); // keep serving while the reader reads
      server.stop();
      await server.done;
      return read;
    },
    { faults: { drop: 0.2, duplicate: 0.1, crashes: [{ rank: 4, atMs: 0 }] } },
    (r) => {
      const read = r.results[3]!;
      assert.ok(read.quorum, 'a majority answered');
      assert.ok(read.replies >= 3);
      // Any majority of {0,1,2,3} without 4 overlaps {0,1,2} but may miss rank 2: the highest stamp it saw wins.
      assert.ok([10, 11, 99].includes(read.value as number), `read ${read.value}`);
      assert.equal(read.entry!.ts >= 1, true);
    },
  );
  t.pass('15 seeds');
});

t.test('anti-entropy converges after a long one-way partition heals (G-counter and LWW map)', async (t) => {
  // Before: rank 0 hears the others but is not heard; it became final, pushed into the cut for its
  // maximal linger and left; the others never learnt it and gave up after their round limit.
  const cut: FaultOptions = { partitions: [{ from: 0, to: [1, 2], atMs: 10, untilMs: 4_000, oneWay: true }] };
  await runSeeds(
    3,
    3,
    async (comm: Communicator) => {
      const c = gcounterIncrement(gcounterEmpty(), comm.rank, comm.rank + 1);
      const g = await gossipUntilConverged(comm, { merge: gcounterMerge, canonical: gcounterCanonical }, c);
      return g.converged ? gcounterCanonical(g.state) : undefined;
    },
    { faults: cut },
    (r) =>
      checkConverged(
        r.results,
        gcounterCanonical(
          gcounterMerge(
            gcounterMerge(gcounterIncrement(gcounterEmpty(), 0, 1), gcounterIncrement(gcounterEmpty(), 1, 2)),
            gcounterIncrement(gcounterEmpty(), 2, 3),
          ),
        ),
      ),
  );
  await runSeeds(
    3,
    3,
    async (comm: Communicator) => {
      const map = new ReplicatedMap<number>(comm.rank);
      map.put(`k${comm.rank}`, comm.rank);
      const g = await map.sync(comm);
      return g.converged ? JSON.stringify(map.visible()) : undefined;
    },
    { faults: cut },
    (r) => checkConverged(r.results, JSON.stringify({ k0: 0, k1: 1, k2: 2 })),
  );
  t.pass();
});

t.test('a majority read sends the same request in every run of a seed, whatever ran before in the process', async (t) => {
  // Before: read request ids came from a module-level counter, so a seed's messages depended on the
  // reads run earlier in the same process.
  const run = async () =>
    (
      await simulate({ n: 2, seed: 5 }, async (comm: Communicator) => {
        const map = new ReplicatedMap<number>(comm.rank);
        if (comm.rank === 0) return (await majorityRead(comm, map, 'KEN', { retryMs: 20, timeoutMs: 10 })).replies;
        return (await comm.recv<{ id: number }>(0, CrdtTag.ReadRequest)).data.id; // what rank 0 asked
      })
    ).results[1];
  const first = await run();
  t.equal(await run(), first);
});
