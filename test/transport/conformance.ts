// One conformance suite for every Transport, wrapped or not: run by memory.test.ts, ws.test.ts,
// ws-tls.test.ts, port.test.ts, sim-network.test.ts and faulty.test.ts.
import type { Test } from 'tap';
import type { Transport, TransportEvents } from '../../runtime/transport.ts';
import { decodeFrame, encodeMessage } from '../../runtime/transport/codec.ts';

export interface Harness {
  transports: Transport[];
  /** Crash-stops a rank: its peers must see onPeerLost. */
  crash(rank: number): void;
  cleanup(): Promise<void>;
}

interface Inbox {
  messages: Array<{ from: number; tag: number; data: unknown }>;
  lost: Array<{ peer: number; reason: string }>;
  errors: Error[];
  waiters: Array<() => void>;
}

function attach(t: Transport): Inbox {
  const inbox: Inbox = { messages: [], lost: [], errors: [], waiters: [] };
  const wake = (): void => {
    for (const w of inbox.waiters.splice(0)) w();
  };
  const events: TransportEvents = {
    onFrame(from, frame) {
      for (const [, , tag, data] of decodeFrame(frame)) inbox.messages.push({ from, tag, data });
      wake();
    },
    onPeerLost(peer, reason) {
      inbox.lost.push({ peer, reason });
      wake();
    },
    onError(err) {
      inbox.errors.push(err);
      wake();
    },
  };
  t.start(events);
  return inbox;
}

/** Resolves when `ready()` holds, re-checking on every event; rejects after `ms` (generous: a loaded machine). */
function until(inbox: Inbox, ready: () => boolean, ms = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`condition not met within ${ms} ms`)), ms);
    const check = (): void => {
      if (ready()) {
        clearTimeout(timer);
        resolve();
      } else inbox.waiters.push(check);
    };
    check();
  });
}

const msg = (tag: number, data: unknown): Uint8Array => encodeMessage(0, 0, tag, data);

export function conformance(t: Test, name: string, make: (n: number) => Promise<Harness>): void {
  t.test(`${name}: FIFO per pair, many senders`, async (t) => {
    const h = await make(4);
    t.teardown(() => h.cleanup());
    const inbox = attach(h.transports[0]);
    for (let r = 1; r < 4; r++) attach(h.transports[r]);
    const count = 2000;
    for (let i = 0; i < count; i++) for (let r = 1; r < 4; r++) await h.transports[r].send(0, msg(i % 7, { r, i }));
    await until(inbox, () => inbox.messages.length === 3 * count);
    for (let r = 1; r < 4; r++) {
      const seq = inbox.messages.filter((m) => m.from === r).map((m) => (m.data as { i: number }).i);
      t.same(
        seq,
        Array.from({ length: count }, (_, i) => i),
        `rank ${r}'s messages arrive in send order`,
      );
    }
  });

  t.test(`${name}: both directions on one pair, dialled at once`, async (t) => {
    const h = await make(2);
    t.teardown(() => h.cleanup());
    const a = attach(h.transports[0]);
    const b = attach(h.transports[1]);
    for (let i = 0; i < 100; i++) {
      await h.transports[0].send(1, msg(1, i));
      await h.transports[1].send(0, msg(2, i));
    }
    await until(a, () => a.messages.length === 100);
    await until(b, () => b.messages.length === 100);
    t.same(
      a.messages.map((m) => m.data),
      Array.from({ length: 100 }, (_, i) => i),
    );
    t.same(
      b.messages.map((m) => m.data),
      Array.from({ length: 100 }, (_, i) => i),
    );
    t.same([...a.lost, ...b.lost], [], 'no link reported lost');
  });

  t.test(`${name}: large frames arrive whole`, async (t) => {
    const h = await make(2);
    t.teardown(() => h.cleanup());
    attach(h.transports[0]);
    const inbox = attach(h.transports[1]);
    const big = new Uint8Array(8 * 1024 * 1024).map((_, i) => i % 251);
    await h.transports[0].send(1, msg(3, big));
    await h.transports[0].send(1, msg(4, 'after'));
    await until(inbox, () => inbox.messages.length === 2, 60_000);
    const got = inbox.messages[0].data as Uint8Array;
    t.equal(got.length, big.length);
    t.ok(Buffer.from(got).equals(Buffer.from(big)), 'same bytes');
    t.equal(inbox.messages[1].data, 'after');
  });

  t.test(`${name}: a crashed peer is reported lost`, async (t) => {
    const h = await make(3);
    t.teardown(() => h.cleanup());
    const inboxes = h.transports.map(attach);
    await h.transports[0].send(2, msg(1, 'hi'));
    await h.transports[1].send(2, msg(1, 'hi'));
    await until(inboxes[2], () => inboxes[2].messages.length === 2);
    h.crash(2);
    await until(inboxes[0], () => inboxes[0].lost.some((l) => l.peer === 2));
    await until(inboxes[1], () => inboxes[1].lost.some((l) => l.peer === 2));
    t.pass('both survivors saw rank 2 lost');
  });

  t.test(`${name}: close flushes what was queued`, async (t) => {
    const h = await make(2);
    t.teardown(() => h.cleanup());
    attach(h.transports[0]);
    const inbox = attach(h.transports[1]);
    for (let i = 0; i < 500; i++) void h.transports[0].send(1, msg(1, i));
    await h.transports[0].close();
    await until(inbox, () => inbox.messages.length === 500);
    t.equal(inbox.messages.at(-1)?.data, 499);
    t.same(inbox.lost, [], 'a normal close is not a loss');
  });

  t.test(`${name}: drop() cuts at most the one link`, async (t) => {
    const h = await make(3);
    t.teardown(() => h.cleanup());
    const inboxes = h.transports.map(attach);
    for (let r = 1; r < 3; r++) await h.transports[r].send(0, msg(1, `from ${r}`));
    await until(inboxes[0], () => inboxes[0].messages.length === 2);
    // As the engine does after a malformed frame from rank 1.
    h.transports[0].drop(1, 'malformed frame');
    for (let i = 0; i < 50; i++) {
      await h.transports[0].send(2, msg(2, i));
      await h.transports[2].send(0, msg(3, i));
    }
    await until(inboxes[2], () => inboxes[2].messages.length === 50);
    await until(inboxes[0], () => inboxes[0].messages.filter((m) => m.from === 2).length === 51);
    t.same(
      inboxes[2].messages.map((m) => m.data),
      Array.from({ length: 50 }, (_, i) => i),
      'rank 2 still gets everything rank 0 sends, in order',
    );
    t.same(
      inboxes[0].messages.filter((m) => m.from === 2).map((m) => m.data),
      ['from 2', ...Array.from({ length: 50 }, (_, i) => i)],
      'and rank 0 everything from rank 2',
    );
    // A transport may report the dropped link lost (at either end), and nothing else.
    const mayLose = [[1], [0], []];
    inboxes.forEach((inbox, r) => {
      t.same(
        inbox.lost.filter((l) => !mayLose[r].includes(l.peer)),
        [],
        `rank ${r} reports no loss but of the dropped link`,
      );
    });
    await Promise.all(h.transports.map((tr) => tr.close()));
    t.pass('every transport still closes');
  });

  t.test(`${name}: a normal close is seen by no one as a loss`, async (t) => {
    const h = await make(3);
    t.teardown(() => h.cleanup());
    const inboxes = h.transports.map(attach);
    for (let r = 0; r < 3; r++) await h.transports[r].send((r + 1) % 3, msg(1, r));
    await Promise.all(inboxes.map((inbox) => until(inbox, () => inbox.messages.length === 1)));
    await h.transports[1].close();
    await h.transports[0].send(2, msg(2, 'still here'));
    await until(inboxes[2], () => inboxes[2].messages.length === 2);
    t.equal(inboxes[2].messages[1].data, 'still here', 'the others go on talking');
    await Promise.all([h.transports[0].close(), h.transports[2].close()]);
    t.same(
      inboxes.flatMap((inbox) => inbox.lost),
      [],
      'no onPeerLost anywhere',
    );
    t.same(
      inboxes.flatMap((inbox) => inbox.errors),
      [],
      'no onError anywhere',
    );
  });
}
