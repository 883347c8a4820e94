// The collectives' sequencing, driven directly: each call takes the next number of the
// communicator's sequence, its messages are tagged seq * 64 + step on the collective context, a
// failed or freed call withdraws what it waits for, and a call completes only once its sends have left.
import t from 'tap';
import { DsError, ErrorCode, runLocal, startLocal, type Communicator } from 'dsmpi';
import { Engine } from '../../runtime/engine.ts';
import { realClock } from '../../runtime/clock.ts';
import { startRank } from '../../runtime/start-rank.ts';
import { MemoryNetwork } from '../../runtime/transport/memory.ts';
import { msgpackCodec } from '../../runtime/transport/codec.ts';
import type { Transport } from '../../runtime/transport.ts';
import type { CollectiveOp } from '../../runtime/collectives.ts';

const STEPS = 64;

/** What a rank's collective context holds unreceived, as [source, tag, data], oldest first. */
function kept(c: Communicator): Array<[number, number, unknown]> {
  const out: Array<[number, number, unknown]> = [];
  const m = c.collective.matcher;
  for (let msg = m.take(-1, -1); msg; msg = m.take(-1, -1)) out.push([msg.source, msg.tag, msg.data]);
  return out;
}

/** The error a promise rejects with (fails the test if it resolves). */
async function rejection(p: PromiseLike<unknown>): Promise<DsError> {
  try {
    await p;
  } catch (err) {
    return err as DsError;
  }
  throw new Error('expected a rejection');
}

t.test('each call takes the next sequence number: its messages are tagged seq * 64 + step on context + 1', async (t) => {
  const [, got] = await runLocal(2, async (c) => {
    if (c.rank === 0) {
      for (const word of ['a', 'b', 'c']) await c.bcast(word); // the root sends and is done
      await c.send('sent', 1);
      return undefined;
    }
    await c.recv(0);
    // Messages of one link arrive in order, so the three broadcasts are here: look at them.
    const tags = kept(c);
    t.equal(c.collective.context, c.context + 1, 'the collective context');
    for (const [source, tag, data] of tags) c.collective.matcher.arrive({ source, tag, data });
    return { tags, values: [await c.bcast(undefined), await c.bcast(undefined), await c.bcast(undefined)] };
  });
  t.same(got!.tags, [
    [0, 0, 'a'],
    [0, STEPS, 'b'],
    [0, 2 * STEPS, 'c'],
  ]);
  t.same(got!.values, ['a', 'b', 'c']);
});

t.test('non-blocking calls are numbered when started, not when they complete', async (t) => {
  const [, got] = await runLocal(2, async (c) => {
    if (c.rank === 0) {
      await c.recv(1);
      for (const word of ['a', 'b', 'c']) await c.bcast(word);
      return undefined;
    }
    const requests = [c.ibcast(undefined), c.ibcast(undefined), c.ibcast(undefined)];
    const waiting = c.collective.matcher.waiting().map((r) => r.description);
    const active = c.collective.active.all.length;
    const inflight = requests.map((r) => c.engine.inflight.has(r));
    await c.send('posted', 0);
    const values = [await requests[2], await requests[0], await requests[1]];
    return {
      waiting,
      active,
      inflight,
      values,
      after: [
        c.collective.active.all.length,
        requests.filter((r) => c.engine.inflight.has(r)).length,
        c.collective.matcher.waiting().length,
      ],
    };
  });
  t.same(got!.waiting, Array(3).fill('bcast(root=0): waiting for rank 0'), 'each call waits, described');
  t.equal(got!.active, 3, 'three calls in progress');
  t.same(got!.inflight, [true, true, true], 'and in flight for status reports');
  t.same(got!.values, ['c', 'a', 'b'], 'each gets its own data, whatever order they are awaited in');
  t.same(got!.after, [0, 0, 0], 'nothing left in progress, in flight or waiting');
});

t.test('the sequence wraps after 2^24 calls, so every tag stays below 2^30', async (t) => {
  const last = 2 ** 24 - 1;
  const [, got] = await runLocal(2, async (c) => {
    (c.collective as unknown as { seq: number }).seq = last;
    if (c.rank === 0) {
      await c.bcast('last');
      await c.bcast('first again');
      await c.send('sent', 1);
      return undefined;
    }
    await c.recv(0);
    return kept(c);
  });
  t.same(got, [
    [0, last * STEPS, 'last'],
    [0, 0, 'first again'],
  ]);
  t.ok(last * STEPS + STEPS - 1 < 2 ** 30);
});

t.test('a call runs its body with its own op; sends and receives of one step meet across ranks', async (t) => {
  const got = await runLocal(4, async (c) => {
    const seqs: number[] = [];
    const value = await c.collective.start('test()', async (op: CollectiveOp) => {
      seqs.push(op.seq);
      t.equal(op.what, 'test()');
      t.same([op.rank, op.size], [c.rank, c.size]);
      // Children 1, 2, 3 of a tree rooted at rank 1 are ranks 2, 3 and 0.
      if (c.rank === 1) return op.recvFromChildren([1, 2, 3], 1, 5);
      op.send(1, 5, `from ${c.rank}`);
      return undefined;
    });
    const others = await c.collective.start('others()', async (op: CollectiveOp) => {
      seqs.push(op.seq);
      op.sendToOthers(7, c.rank * 10);
      const got: unknown[] = [];
      for (let r = 0; r < c.size; r++) if (r !== c.rank) got.push(await op.recv(r, 7));
      return got;
    });
    return { seqs, value, others };
  });
  t.same(got[1].value, ['from 2', 'from 3', 'from 0'], 'in the order of the children, not of arrival');
  for (const [rank, { seqs, others }] of got.entries()) {
    t.same(seqs, [0, 1], `rank ${rank}: consecutive numbers`);
    t.same(
      others,
      [0, 10, 20, 30].filter((v) => v !== rank * 10),
      `rank ${rank}: one message from every other rank`,
    );
  }
});

t.test('recvFromChildren takes what has arrived and waits for the rest', async (t) => {
  const [got] = await runLocal(4, async (c) => {
    if (c.rank === 0) {
      const op = await new Promise<CollectiveOp>((resolve) => {
        void c.collective.start('children()', async (o: CollectiveOp) => {
          resolve(o);
          await new Promise(() => {}); // held open; its receives are ours to make
        });
      });
      await c.recv(2); // rank 2's message is here, 1's and 3's are not
      const early = op.recvFromChildren([2], 0, 3);
      const mixed = op.recvFromChildren([1, 2, 3], 0, 4);
      const waiting = c.collective.matcher.waiting().length;
      await c.send('go', 1);
      await c.send('go', 3);
      const result = [await early, await mixed, waiting];
      op.fail(new Error('done'));
      return result;
    }
    const rank = c.rank;
    await c.collective
      .start('children()', async (op: CollectiveOp) => {
        op.send(0, 3, `${rank} at 3`);
        if (rank === 2) {
          op.send(0, 4, `${rank} at 4`);
          await c.send('sent', 0);
        } else {
          await c.recv(0);
          op.send(0, 4, `${rank} at 4`);
        }
      })
      .catch(() => {});
    return undefined;
  });
  t.same(got, [['2 at 3'], ['1 at 4', '2 at 4', '3 at 4'], 2], 'two receives waited; the one of rank 2 did not');
});

t.test('a failed call sends and receives nothing more, and withdraws what it waited for', async (t) => {
  const [got] = await runLocal(2, async (c) => {
    if (c.rank === 1) return undefined;
    const first = new Error('first');
    let op!: CollectiveOp;
    const request = c.collective.start('failing()', async (o: CollectiveOp) => {
      op = o;
      return o.recv(1, 0);
    });
    const waitingBefore = c.collective.matcher.waiting().length;
    op.fail(first);
    op.fail(new Error('second'));
    const outcome = {
      waitingBefore,
      waitingAfter: c.collective.matcher.waiting().length,
      failed: op.failed === first,
      request: (await rejection(request)) === first,
      recv: (await rejection(op.recv(1, 1))) === first,
      children: (await rejection(op.recvFromChildren([1], 0, 1))) === first,
      send: (() => {
        try {
          op.send(1, 1, 'x');
        } catch (err) {
          return err === first;
        }
        return false;
      })(),
      sendToOthers: (() => {
        try {
          op.sendToOthers(1, 'x');
        } catch (err) {
          return err === first;
        }
        return false;
      })(),
      active: c.collective.active.all.length,
      inflight: c.engine.inflight.has(request),
    };
    return outcome;
  });
  t.same(got, {
    waitingBefore: 1,
    waitingAfter: 0,
    failed: true,
    request: true,
    recv: true,
    children: true,
    send: true,
    sendToOthers: true,
    active: 0,
    inflight: false,
  });
});

t.test('a body that throws, or rejects with a non-error, fails its call', async (t) => {
  const [got] = await runLocal(1, async (c) => {
    const boom = new Error('boom');
    const thrown = await rejection(
      c.collective.start('throws()', (() => {
        throw boom;
      }) as () => Promise<never>),
    );
    let op!: CollectiveOp;
    const odd = await rejection(
      c.collective.start('rejects()', (o: CollectiveOp) => {
        op = o;
        return Promise.reject('a string');
      }),
    );
    return {
      thrown: thrown === boom,
      odd,
      failed: op.failed?.message,
      isError: op.failed instanceof Error,
      active: c.collective.active.all.length,
    };
  });
  t.same(got, { thrown: true, odd: 'a string', failed: 'a string', isError: true, active: 0 });
});

t.test('a lost member fails every call in progress; later calls are refused at once', async (t) => {
  const job = startLocal({ n: 3 }, async (c) => {
    if (c.rank === 2) return undefined;
    if (c.rank === 1) {
      await c.recv(0); // rank 2 is gone: take part in nothing
      return undefined;
    }
    const pending = c.ibcast(undefined, 1); // waits on rank 1, which is alive
    const tree = c.ireduce(1, 'sum', 0);
    job.network.kill(2);
    const lost = await rejection(pending);
    const lostTree = await rejection(tree);
    const waiting = c.collective.matcher.waiting().length;
    const later = await rejection(c.barrier());
    await c.send('done', 1);
    return { lost: [lost.code, lost.message], tree: lostTree.code, waiting, later: [later.code, later.message] };
  });
  const [got] = await job.results;
  await Promise.all(job.comms.map((c) => c.engine.shutdown()));
  t.same(got!.lost, [ErrorCode.PeerLost, 'bcast(root=1): rank 2 of the communicator was lost (killed)']);
  t.equal(got!.tree, ErrorCode.PeerLost);
  t.equal(got!.waiting, 0, 'their receives are withdrawn');
  t.same(got!.later, [ErrorCode.PeerLost, 'barrier(): rank 2 of the communicator is dead']);
});

t.test('a dead member is named by its rank in the communicator', async (t) => {
  const job = startLocal({ n: 3 }, async (c) => {
    const reversed = (await c.split(0, -c.rank))!;
    if (c.rank !== 0) return undefined;
    job.network.kill(2);
    const err = await rejection(reversed.barrier());
    return [err.code, err.message];
  });
  const [got] = await job.results;
  await Promise.all(job.comms.map((c) => c.engine.shutdown()));
  t.same(got, [ErrorCode.PeerLost, 'barrier(): rank 0 of the communicator is dead']);
});

t.test('a receive from a retired rank is refused with DS_ERR_RETIRED', async (t) => {
  const [got] = await runLocal(2, async (c) => {
    if (c.rank === 1) return undefined;
    c.engine.peerRetired(1);
    const single = await rejection(c.bcast(undefined, 1));
    const children = await rejection(c.reduce(1, 'sum', 0));
    return [single.code, single.message, children.code, children.message];
  });
  t.same(got, [ErrorCode.Retired, 'bcast(root=1): rank 1 has retired', ErrorCode.Retired, 'reduce(op=sum, root=0): rank 1 has retired']);
});

t.test('free fails the calls in progress with DS_ERR_CLOSED and refuses later ones at once; twice is harmless', async (t) => {
  const [got] = await runLocal(2, async (c) => {
    const dup = await c.dup();
    if (c.rank === 1) {
      dup.free();
      return undefined;
    }
    const pending = dup.ibcast(undefined, 1);
    dup.free();
    const freed = await rejection(pending);
    let later: unknown;
    try {
      dup.ibarrier();
    } catch (err) {
      later = err;
    }
    dup.free();
    return {
      freed: [freed.code, freed.message],
      later: [(later as DsError).code, (later as DsError).message],
      waiting: dup.collective.matcher.waiting().length,
      active: dup.collective.active.all.length,
    };
  });
  t.same(got, {
    freed: [ErrorCode.Closed, 'bcast(root=1): the communicator was freed'],
    later: [ErrorCode.Closed, 'barrier(): the communicator was freed'],
    waiting: 0,
    active: 0,
  });
});

t.test('a revoked communicator refuses collectives at once with DS_ERR_REVOKED', async (t) => {
  const [got] = await runLocal(2, async (c) => {
    const dup = await c.dup();
    dup.revoke();
    try {
      dup.ibarrier();
    } catch (err) {
      return [(err as DsError).code, (err as DsError).message];
    }
    return undefined;
  });
  t.same(got, [ErrorCode.Revoked, 'barrier(): the communicator was revoked']);
});

/**
 * A job of two ranks over the in-memory network in which every send of rank 0 is held, as a
 * transport under backpressure holds it, until `release()`.
 */
function heldJob<T>(main: (c: Communicator) => Promise<T>): { results: Promise<T[]>; release: () => void; held: () => number } {
  const network = new MemoryNetwork(2);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let held = 0;
  const comms = [0, 1].map((rank) => {
    const inner = network.endpoint(rank);
    const transport: Transport =
      rank === 0
        ? {
            maxPayload: inner.maxPayload,
            start: (events) => inner.start(events),
            send: (peer, message) => {
              inner.send(peer, message);
              held++;
              return gate.then(() => {
                held--;
              });
            },
            drop: (peer, reason) => inner.drop(peer, reason),
            flush: () => inner.flush(),
            close: () => inner.close(),
          }
        : inner;
    const engine = new Engine({ codec: msgpackCodec, rank, size: 2, transport, clock: realClock, seed: 1, abort: () => {} });
    return startRank(engine, {});
  });
  const results = Promise.all(comms.map((c) => Promise.resolve().then(() => main(c))));
  return {
    results: results.finally(() => Promise.all(comms.map((c) => c.engine.shutdown()))),
    release,
    held: () => held,
  };
}

t.test('a call whose sends are held by backpressure completes once they have left', async (t) => {
  const job: ReturnType<typeof heldJob<unknown[]>> = heldJob(async (c): Promise<unknown[]> => {
    if (c.rank === 1) {
      const data = await c.bcast(undefined);
      await c.send('got it', 0);
      return [data];
    }
    const bcast = c.ibcast('x');
    await c.recv(1); // the broadcast has reached rank 1, but its send is still held
    const before: unknown[] = [bcast.done, c.collective.active.all.length, job.held()];
    job.release();
    return [before, await bcast, c.collective.active.all.length];
  });
  const [root, other] = await job.results;
  t.same(root, [[false, 1, 1], 'x', 0], 'in progress while held; done, with its value, once released');
  t.same(other, ['x']);
});
