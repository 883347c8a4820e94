// More of the collectives' sequencing: every message of a call is tagged inside its own window of
// 64 tags (so consecutive calls never meet), trees rooted anywhere reach every rank, a failing call
// leaves the others' receives alone, and the shared arrival counter of a threaded world.
import t from 'tap';
import { runLocal, type Communicator } from 'dsmpi';
import { Engine } from '../../runtime/engine.ts';
import { realClock } from '../../runtime/clock.ts';
import { startRank } from '../../runtime/start-rank.ts';
import { MemoryNetwork } from '../../runtime/transport/memory.ts';
import { msgpackCodec } from '../../runtime/transport/codec.ts';
import type { CollectiveOp } from '../../runtime/collectives.ts';

const STEPS = 64;

/** Records the tag of every message this rank sends on its world's collective context. */
function recordTags(c: Communicator): number[] {
  const tags: number[] = [];
  const encode = c.engine.encode.bind(c.engine);
  c.engine.encode = (kind, context, tag, data, what) => {
    if (context === c.collective.context) tags.push(tag);
    return encode(kind, context, tag, data, what);
  };
  return tags;
}

t.test('every message of a call is tagged within its own window: call n uses tags 64n to 64n + 63', async (t) => {
  const add = (a: number, b: number): number => a + b;
  const concat = (a: string, b: string): string => a + b;
  const got = await runLocal(3, async (c) => {
    const tags = recordTags(c);
    const calls = [
      () => c.allreduce(c.rank + 1), // 3 ranks: the fold and unfold of recursive doubling
      () => c.reduce(String(c.rank), concat, 1), // a user function to a root other than 0: forwarded
      () => c.bcast(c.rank === 2 ? 'from 2' : undefined, 2),
      () => c.allreduce(c.rank, add),
      () => c.scan(1),
      () => c.alltoall([c.rank, c.rank, c.rank]),
      () => c.barrier(),
    ];
    const results: unknown[] = [];
    /** The window of each tag this rank sent, by call. */
    const windows: number[][] = [];
    for (const call of calls) {
      const before = tags.length;
      results.push(await call());
      windows.push(tags.slice(before).map((tag) => Math.floor(tag / STEPS)));
    }
    return { results, windows, backlog: c.collective.matcher.backlog };
  });
  t.same(
    got.map((r) => r.results),
    [
      [6, undefined, 'from 2', 3, 1, [0, 1, 2], undefined],
      [6, '012', 'from 2', 3, 2, [0, 1, 2], undefined],
      [6, undefined, 'from 2', 3, 3, [0, 1, 2], undefined],
    ],
  );
  for (const [rank, { windows, backlog }] of got.entries()) {
    t.same(
      windows,
      windows.map((sent, call) => sent.map(() => call)),
      `rank ${rank}: every message of call n is in window n`,
    );
    t.equal(backlog, 0, `rank ${rank}: nothing left over`);
  }
  t.same(
    got[0].windows.map((_, call) => got.some((r) => r.windows[call].length > 0)),
    Array(7).fill(true),
    'every call sent something',
  );
});

t.test('trees rooted anywhere reach every rank, on a communicator whose ranks are renumbered', async (t) => {
  const got = await runLocal(5, async (c) => {
    const reversed = (await c.split(0, -c.rank))!; // world rank 4 is rank 0 of `reversed`
    const out: unknown[] = [];
    for (let root = 0; root < 5; root++) out.push(await reversed.bcast(reversed.rank === root ? `root ${root}` : undefined, root));
    out.push(await reversed.gather(reversed.rank, 3));
    out.push(await reversed.reduce([reversed.rank], (a: number[], b: number[]) => [...a, ...b], 2));
    out.push(reversed.rank, reversed.collective.matcher.backlog);
    return out;
  });
  for (const [world, out] of got.entries()) {
    const rank = 4 - world;
    t.same(
      out,
      [
        'root 0',
        'root 1',
        'root 2',
        'root 3',
        'root 4',
        rank === 3 ? [0, 1, 2, 3, 4] : undefined,
        rank === 2 ? [0, 1, 2, 3, 4] : undefined,
        rank,
        0,
      ],
      `world rank ${world}`,
    );
  }
});

t.test('a later call sends to others and receives from its tree children in its own window', async (t) => {
  const got = await runLocal(4, async (c) => {
    await c.barrier(); // a call before: the ones below are not the first
    const others = await c.collective.start('others()', async (op: CollectiveOp) => {
      op.sendToOthers(3, c.rank);
      const from: unknown[] = [];
      for (let r = 0; r < c.size; r++) if (r !== c.rank) from.push(await op.recv(r, 3));
      return from;
    });
    const tree = await c.collective.start('tree()', async (op: CollectiveOp) => {
      if (c.rank === 2) return op.recvFromChildren([1, 2, 3], 2, 9);
      op.send(2, 9, `from ${c.rank}`);
      return undefined;
    });
    return { others, tree, backlog: c.collective.matcher.backlog };
  });
  for (const [rank, r] of got.entries()) {
    t.same(
      r.others,
      [0, 1, 2, 3].filter((x) => x !== rank),
      `rank ${rank}: one message from each other rank`,
    );
    t.equal(r.backlog, 0, `rank ${rank}: and no more`);
  }
  t.same(got[2].tree, ['from 3', 'from 0', 'from 1']);
});

t.test('children that arrive at different times: the call completes with all of them', async (t) => {
  const [got] = await runLocal(4, async (c) => {
    if (c.rank === 0) {
      let op!: CollectiveOp;
      const request = c.collective.start('children()', async (o: CollectiveOp) => {
        op = o;
        return o.recvFromChildren([1, 2, 3], 0, 4);
      });
      await c.send('go', 1);
      await c.recv(1); // rank 1's child message is here
      await c.send('go', 2);
      await c.recv(2);
      await c.send('go', 3);
      const values = [...(await request)];
      return { values, seq: op.seq };
    }
    await c.collective.start('children()', async (op: CollectiveOp) => {
      await c.recv(0);
      op.send(0, 4, `child ${c.rank}`);
      await c.send('sent', 0);
    });
    return undefined;
  });
  t.same(got, { values: ['child 1', 'child 2', 'child 3'], seq: 0 });
});

t.test("a failing call withdraws its own receives and leaves another call's alone", async (t) => {
  const [got] = await runLocal(2, async (c) => {
    if (c.rank === 1) {
      await c.recv(0);
      await c.collective.start('first()', async () => undefined);
      await c.collective.start('second()', async (op: CollectiveOp) => op.send(0, 1, 'for second'));
      return undefined;
    }
    let first!: CollectiveOp;
    const a = c.collective.start('first()', async (op: CollectiveOp) => {
      first = op;
      return op.recv(1, 0);
    });
    const b = c.collective.start('second()', async (op: CollectiveOp) => op.recv(1, 1));
    first.fail(new Error('first failed'));
    const left = c.collective.matcher.waiting().map((r) => r.description);
    await c.send('go', 1);
    const outcome = await Promise.allSettled([a, b]);
    return { left, outcome: outcome.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message)) };
  });
  t.same(got, { left: ['second(): waiting for rank 1'], outcome: ['first failed', 'for second'] });
});

/** `n` ranks in this process whose world shares one arrival counter, as threads of one process do. */
async function threadedWorld<T>(n: number, arrivals: Int32Array, main: (c: Communicator) => Promise<T>): Promise<T[]> {
  const network = new MemoryNetwork(n);
  const comms = Array.from({ length: n }, (_, rank) => {
    const engine = new Engine({
      codec: msgpackCodec,
      rank,
      size: n,
      transport: network.endpoint(rank),
      clock: realClock,
      seed: 1,
      abort: () => {},
      worldArrivals: arrivals,
    });
    return startRank(engine, {});
  });
  try {
    return await Promise.all(comms.map((c) => Promise.resolve().then(() => main(c))));
  } finally {
    await Promise.all(comms.map((c) => c.engine.shutdown()));
  }
}

t.test('a world with a shared arrival counter counts its barriers there; its other communicators do not', async (t) => {
  const arrivals = new Int32Array(new SharedArrayBuffer(4));
  const got = await threadedWorld(3, arrivals, async (c) => {
    const dup = await c.dup();
    const barrier = c.ibarrier();
    const waiting = c.collective.matcher.waiting().map((r) => r.description);
    await barrier;
    await dup.barrier();
    return { waiting, world: c.collective.arrivals === arrivals, dup: dup.collective.arrivals };
  });
  t.same(
    got.map((r) => r.waiting.join()).sort(),
    ['', 'barrier(): waiting for 1 of 3 ranks to arrive', 'barrier(): waiting for 2 of 3 ranks to arrive'],
    'the first to arrive waits for two, the second for one; the last releases them',
  );
  t.same(
    got.map((r) => [r.world, r.dup]),
    Array(3).fill([true, undefined]),
  );
  t.equal(Atomics.load(arrivals, 0), 0, 'the counter is back to 0');
});
