import t from 'tap';
import { ErrorCode, simulate, type Communicator, type TraceEvent } from 'dsmpi';

const of = (trace: TraceEvent[], ev: string) => trace.filter((e) => e.ev === ev);
const codeOf = (err: unknown) => (err as { code?: string }).code;

t.test('a crash-stop rejects pending receives with DS_ERR_PEER_LOST and shows in failed()', async (t) => {
  const r = await simulate({ n: 3, seed: 1, faults: { crashes: [{ rank: 2, atMs: 10 }] } }, async (c: Communicator) => {
    if (c.rank === 2) {
      await c.clock.sleep(1_000_000);
      return 'never';
    }
    const told: Array<[number, string]> = [];
    c.onFailure((rank, reason) => told.push([rank, reason]));
    t.same(c.failed(), []);
    const outcome = await c.recv(2, 0).then(
      () => 'received',
      (err: unknown) => codeOf(err),
    );
    const later = await c.recv(2, 0).then(
      () => 'received',
      (err: unknown) => codeOf(err),
    );
    const sendLater = await c.send('x', 2).then(
      () => 'sent',
      (err: unknown) => codeOf(err),
    );
    return { outcome, later, sendLater, failed: c.failed(), told, at: c.clock.now() };
  });
  for (const rank of [0, 1]) {
    t.same(r.results[rank], {
      outcome: ErrorCode.PeerLost,
      later: ErrorCode.PeerLost,
      sendLater: ErrorCode.PeerLost,
      failed: [2],
      told: [[2, 'crashed']],
      at: 10,
    });
  }
  t.equal(r.results[2], undefined);
  t.same(r.crashed, [2]);
  t.match(of(r.trace, 'crash'), [{ rank: 2, t: 10, reason: 'scheduled' }]);
  t.same(
    of(r.trace, 'detect').map((e) => [e.rank, e.from]),
    [
      [0, 2],
      [1, 2],
    ],
  );
});

t.test('a crash after the k-th send: the first k messages arrive, then the loss is reported', async (t) => {
  const r = await simulate(
    { n: 2, seed: 3, faults: { crashes: [{ rank: 1, afterSends: 3 }], delay: { minMs: 1, maxMs: 20 } } },
    async (c) => {
      if (c.rank === 1) {
        for (let i = 0; ; i++) await c.send(i, 0, 1);
      }
      const got: unknown[] = [];
      for (;;) {
        try {
          got.push((await c.recv(1, 1)).data);
        } catch (err) {
          return [got, codeOf(err)];
        }
      }
    },
  );
  t.same(r.results[0], [[0, 1, 2], ErrorCode.PeerLost]);
  t.equal(of(r.trace, 'send').length, 3, 'nothing is sent after the crash');
  t.match(of(r.trace, 'crash'), [{ rank: 1, reason: 'after 3 sends' }]);
});

t.test('code of a crashed incarnation still running takes none of the messages that had arrived', async (t) => {
  const taken: unknown[] = [];
  const r = await simulate({ n: 2, seed: 4, faults: { crashes: [{ rank: 1, afterSends: 1, restartAfterMs: 10 }] } }, async (c) => {
    if (c.rank === 0) {
      for (let i = 0; i < 3; i++) await c.send(i, 1, 5);
      return (await c.recv(1, 6)).data;
    }
    if (c.storage.get('booted')) {
      await c.send('back', 0, 6);
      return 'restarted';
    }
    c.storage.set('booted', true);
    taken.push((await c.recv(0, 5)).data);
    await c.clock.sleep(50); // the other two arrive and wait to be received
    void c.isend('crash on this send', 0, 7); // not awaited: the code runs on after the crash
    for (;;) taken.push((await c.recv(0, 5)).data);
  });
  t.same(r.results, ['back', 'restarted']);
  t.same(taken, [0], 'what had arrived went down with the incarnation');
});

t.test('a crash after the k-th delivery', async (t) => {
  const r = await simulate({ n: 2, seed: 3, faults: { crashes: [{ rank: 1, afterDeliveries: 2 }] } }, async (c) => {
    if (c.rank === 0) {
      for (let i = 0; i < 5; i++) await c.send(i, 1);
      return c.recv(1).then(
        () => 'reply',
        (err: unknown) => codeOf(err),
      );
    }
    for (;;) await c.recv(0);
  });
  t.equal(r.results[0], ErrorCode.PeerLost);
  t.equal(of(r.trace, 'deliver').length, 2);
  t.equal(of(r.trace, 'drop').filter((d) => d.reason === 'crashed').length, 3, 'the rest are lost with the rank');
});

t.test('a crash on the k-th delivery comes before the rank acts on it: observers see no step of the dead incarnation', async (t) => {
  // Rank 1 logs every message it handles to an observer outside the simulation (as invariant
  // checkers do) and writes it to its storage. It crashes as the 2nd message arrives: that message
  // must be neither logged nor written, the crash coming before any of its code runs.
  const observed: Array<[number, number]> = [];
  const r = await simulate({ n: 2, seed: 3, faults: { crashes: [{ rank: 1, afterDeliveries: 2, restartAfterMs: 10 }] } }, async (c) => {
    if (c.rank === 0) {
      for (let i = 0; i < 3; i++) {
        await c.send(i, 1);
        await c.clock.sleep(1);
      }
      return 'sent';
    }
    const boots = (c.storage.get<number>('boots') ?? 0) + 1;
    c.storage.set('boots', boots);
    if (boots > 1) return 'restarted';
    for (;;) {
      const m = await c.recv<number>(0);
      observed.push([boots, m.data]);
      c.storage.set('handled', m.data);
      await c.send('ack', 0, 9);
    }
  });
  t.same(observed, [[1, 0]], 'only the first message was handled');
  t.equal(r.storage(1).get('handled'), 0);
  t.equal(of(r.trace, 'deliver').filter((d) => d.rank === 1).length, 2, 'the second did arrive');
  t.equal(of(r.trace, 'send').filter((e) => e.rank === 1).length, 1, 'one ack: none for the message it crashed on');
  t.match(of(r.trace, 'crash'), [{ rank: 1, reason: 'after 2 deliveries' }]);
});

t.test('crash-recovery: storage survives the restart, nothing else does', async (t) => {
  const r = await simulate({ n: 2, seed: 8, faults: { crashes: [{ rank: 1, afterSends: 1, restartAfterMs: 50 }] } }, async (c) => {
    if (c.rank === 0) {
      const first = await c.recv(1, 0);
      const second = await c.recv(1, 0);
      return [first.data, second.data];
    }
    const boots = (c.storage.get<number>('boots') ?? 0) + 1;
    c.storage.set('boots', boots);
    const local = { boots };
    if (boots === 1) {
      c.storage.set('kept', { list: [1, 2, 3] });
      const pending = c.recv(0, 99);
      await c.send('before crash', 0);
      // The crash happened inside that send: this write is lost, and nothing below runs on.
      c.storage.set('late', true);
      await pending;
      return 'old incarnation went on';
    }
    await c.send('after restart', 0);
    return {
      local,
      kept: c.storage.get('kept'),
      late: c.storage.get('late'),
      keys: c.storage.keys(),
      now: c.clock.now(),
      dead: c.failed(),
    };
  });
  t.same(r.results[0], ['before crash', 'after restart']);
  t.match(r.results[1], { local: { boots: 2 }, kept: { list: [1, 2, 3] }, late: undefined, keys: ['boots', 'kept'], dead: [] });
  t.same(r.restarts, [0, 1]);
  t.same(r.crashed, []);
  t.equal(r.storage(1).get('boots'), 2);
  const crash = of(r.trace, 'crash')[0];
  const restart = of(r.trace, 'restart')[0];
  t.equal(restart.t - crash.t, 50);
  t.equal(crash.untilMs, restart.t);
  t.equal(of(r.trace, 'detect').length, 0, 'a restart is not reported as a loss');
});

t.test('messages to a rank while it is down are lost', async (t) => {
  const r = await simulate({ n: 2, seed: 2, faults: { crashes: [{ rank: 1, atMs: 5, restartAfterMs: 100 }] } }, async (c) => {
    if (c.rank === 0) {
      await c.clock.sleep(20);
      await c.send('while down', 1);
      await c.clock.sleep(200);
      await c.send('after', 1);
      return 'done';
    }
    return (await c.recv(0)).data;
  });
  t.same(r.results, ['done', 'after']);
  t.match(of(r.trace, 'drop'), [{ rank: 0, to: 1, reason: 'crashed' }]);
});

t.test('a restarted rank learns of ranks that crashed for good', async (t) => {
  const r = await simulate(
    {
      n: 3,
      seed: 2,
      faults: {
        crashes: [
          { rank: 2, atMs: 1 },
          { rank: 1, atMs: 2, restartAfterMs: 10 },
        ],
      },
    },
    async (c) => {
      if (c.rank === 2) await c.clock.sleep(1e6);
      if (c.rank === 1 && c.storage.get('up') === undefined) {
        c.storage.set('up', true);
        await c.clock.sleep(1e6);
      }
      if (c.rank === 0) await c.clock.sleep(5);
      return c.failed();
    },
  );
  t.same(r.results, [[2], [2], undefined]);
});

t.test('random crashes are drawn from the seed, among the ranks allowed', async (t) => {
  for (let seed = 1; seed <= 5; seed++) {
    const r = await simulate({ n: 5, seed, faults: { randomCrashes: { count: 2, withinMs: 30, ranks: [1, 2, 3] } } }, async (c) => {
      for (let i = 0; i < 10; i++) await c.clock.sleep(5);
      return c.failed();
    });
    t.equal(r.crashed.length, 2);
    t.ok(r.crashed.every((x) => [1, 2, 3].includes(x)));
    t.same(r.results[0], r.crashed);
  }
});

t.test('a detection delay holds the news back', async (t) => {
  const r = await simulate({ n: 2, seed: 1, faults: { crashes: [{ rank: 1, atMs: 10 }], detectMs: 40 } }, async (c) => {
    if (c.rank === 1) await c.clock.sleep(1e6);
    await c.recv(1).then(
      () => 0,
      () => 0,
    );
    return c.clock.now();
  });
  t.equal(r.results[0], 50);
});
