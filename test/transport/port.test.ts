import t from 'tap';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { PortTransport } from '../../runtime/transport/port.ts';
import { bellMemory, ringMemory } from '../../runtime/protocol/thread-rings.ts';
import { decodeFrame, encodeChunkHead, encodeMessage } from '../../runtime/transport/codec.ts';
import { conformance } from './conformance.ts';

/**
 * n transports joined by one MessageChannel per pair, as dsrun --threads joins its worker threads;
 * with `polling`, also by rings in shared memory, as when the threads poll.
 */
function mesh(n: number, polling = false): PortTransport[] {
  const ports: Array<Array<MessagePort | undefined>> = Array.from({ length: n }, () => new Array(n).fill(undefined));
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      const { port1, port2 } = new MessageChannel();
      ports[a][b] = port1;
      ports[b][a] = port2;
    }
  }
  const shared = polling ? { rings: ringMemory(n), bells: bellMemory(n) } : undefined;
  return ports.map((row, rank) => new PortTransport(row, undefined, shared && { rank, ...shared }));
}

/** `p`, or a rejection after 30 s (links are unref'd: the timer also keeps the test process alive). */
function within<T>(p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('not settled within 30 s')), 30_000)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

conformance(t, 'port', async (n) => {
  const transports = mesh(n);
  return {
    transports,
    crash: (r) => transports[r].terminate(),
    cleanup: async () => {
      await Promise.all(transports.map((tr) => tr.close()));
    },
  };
});

conformance(t, 'port with rings', async (n) => {
  const transports = mesh(n, true);
  return {
    transports,
    crash: (r) => transports[r].terminate(),
    cleanup: async () => {
      await Promise.all(transports.map((tr) => tr.close()));
    },
  };
});

t.test('port with rings: frames in the ring, posted (large) and refused by a full ring arrive in the order sent', async (t) => {
  const [a, b] = mesh(2, true);
  const got: number[] = [];
  const count = 3000;
  const arrived = new Promise<void>((resolve) => {
    b.start({
      onFrame: (_from, frame) => {
        for (const [, , tag, data] of decodeFrame(frame)) {
          got.push(tag);
          if (tag % 100 === 7) t.equal((data as Uint8Array).length, 40_000, 'a large frame whole');
        }
        if (got.length === count) resolve();
      },
      onPeerLost: () => {},
      onError: () => {},
    });
  });
  a.start({ onFrame: () => {}, onPeerLost: () => {}, onError: () => {} });
  // 3000 frames of about 200 bytes in one go overflow the 64 KiB ring; every 100th is too large for it.
  for (let i = 0; i < count; i++) a.send(1, encodeMessage(0, 0, i, i % 100 === 7 ? new Uint8Array(40_000) : 'x'.repeat(200)));
  await within(arrived);
  t.same(
    got,
    Array.from({ length: count }, (_, i) => i),
    'in order',
  );
  await Promise.all([a.close(), b.close()]);
});

t.test('port: sending to an ended peer is DS_ERR_PEER_LOST; a rank without a link is DS_ERR_INVALID_RANK', async (t) => {
  const [a, b] = mesh(2);
  const lost = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('rank 1 not reported lost within 30 s')), 30_000);
    a.start({ onFrame: () => {}, onPeerLost: (peer) => (clearTimeout(timer), resolve(peer)), onError: () => {} });
  });
  b.start({ onFrame: () => {}, onPeerLost: () => {}, onError: () => {} });
  b.terminate();
  t.equal(await lost, 1, 'rank 1 reported lost');
  t.throws(() => a.send(1, new Uint8Array([1])), { code: 'DS_ERR_PEER_LOST' });
  t.throws(() => a.send(5, new Uint8Array([1])), { code: 'DS_ERR_INVALID_RANK' });
  await a.close();
});

t.test('port: every byte value survives a small frame (sent as a string) and a large one (memory handed over)', async (t) => {
  const [a, b] = mesh(2);
  const got: Uint8Array[] = [];
  const arrived = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('frames not delivered within 30 s')), 30_000);
    b.start({
      onFrame: (_from, frame) => {
        for (const [, , , data] of decodeFrame(frame)) got.push(data as Uint8Array);
        if (got.length === 2) {
          clearTimeout(timer);
          resolve();
        }
      },
      onPeerLost: () => {},
      onError: () => {},
    });
  });
  a.start({ onFrame: () => {}, onPeerLost: () => {}, onError: () => {} });
  const small = Uint8Array.from({ length: 256 }, (_, i) => i);
  const large = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7) % 256);
  a.send(1, encodeMessage(0, 0, 1, small));
  await Promise.resolve();
  a.send(1, encodeMessage(0, 0, 2, large));
  await arrived;
  t.ok(Buffer.from(got[0]).equals(Buffer.from(small)), 'the small frame');
  t.ok(Buffer.from(got[1]).equals(Buffer.from(large)), 'the large frame, after it');
  await Promise.all([a.close(), b.close()]);
});

t.test(
  'port: a chunk (sendParts) follows what was sent before it, and its send completes when the peer hands the memory back',
  async (t) => {
    const [a, b] = mesh(2);
    const tags: number[] = [];
    let chunkSeen = false;
    b.start({
      onFrame: (_from, frame) => {
        for (const [kind, , tag, data] of decodeFrame(frame)) {
          if (kind === 0) tags.push(tag);
          else {
            chunkSeen = true;
            t.ok(Buffer.from(data as Uint8Array).equals(Buffer.alloc(300_000, 9)), 'the chunk data whole');
          }
        }
      },
      onPeerLost: () => {},
      onError: () => {},
    });
    a.start({ onFrame: () => {}, onPeerLost: () => {}, onError: () => {} });
    a.send(1, encodeMessage(0, 0, 1, 'first'));
    a.send(1, encodeMessage(0, 0, 2, 'queued behind it'));
    const body = Buffer.alloc(300_000, 9);
    await within(a.sendParts(1, encodeChunkHead(5, body.length), body));
    t.ok(chunkSeen, 'complete only once the peer took the chunk');
    t.same(tags, [1, 2], 'the messages sent before it arrived first');
    // The memory handed back carries the next chunk.
    await within(a.sendParts(1, encodeChunkHead(6, body.length), body));
    await Promise.all([a.close(), b.close()]);
  },
);

t.test('port: a chunk not handed back fails when the peer is lost', async (t) => {
  const [a, b] = mesh(2);
  a.start({ onFrame: () => {}, onPeerLost: () => {}, onError: () => {} });
  // b never starts, so it never takes the chunk; then its thread "ends".
  const sent = a.sendParts(1, encodeChunkHead(1, 10), new Uint8Array(10));
  b.terminate();
  await t.rejects(within(sent), { code: 'DS_ERR_PEER_LOST' });
  await a.close();
});
