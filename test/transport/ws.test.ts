import t from 'tap';
import { WsTransport } from '../../runtime/transport/ws.ts';
import { conformance } from './conformance.ts';
import { decodeFrame, encodeMessage } from '../../runtime/transport/codec.ts';
import { randomKey } from '../../runtime/protocol/keys.ts';
import type { RankTls } from '../../runtime/transport/rank-tls.ts';

const key = randomKey();

/** The conformance suite over plain ws://, and over wss:// with TLS-PSK (no certificates). */
for (const [name, tls] of [
  ['ws', undefined],
  ['ws tls-psk', { kind: 'psk' }],
] as Array<[string, RankTls | undefined]>) {
  conformance(t, name, async (n) => {
    const addresses: string[] = [];
    const transports = await Promise.all(
      Array.from({ length: n }, (_, rank) =>
        WsTransport.listen({ rank, size: n, jobId: 'conformance', key, tls, resolve: async (p) => addresses[p] }),
      ),
    );
    transports.forEach((tr, r) => (addresses[r] = tr.address));
    return {
      transports,
      crash: (r) => transports[r].terminate(),
      cleanup: async () => {
        await Promise.all(transports.map((tr) => tr.close()));
      },
    };
  });
}

t.test('ws: both ranks dial at once while the lower rank is still looking up the address', async (t) => {
  // Rank 0's address lookup is held back, so rank 1's dial reaches rank 0 first and is refused
  // (the lower rank's own dial wins); rank 1 must then accept rank 0's dial when it comes.
  const addresses: string[] = [];
  let releaseLookup: () => void = () => {};
  const lookupHeld = new Promise<void>((resolve) => (releaseLookup = resolve));
  const transports = await Promise.all(
    [0, 1].map((rank) =>
      WsTransport.listen({
        rank,
        size: 2,
        jobId: 'race',
        key,
        resolve: async (p) => {
          if (rank === 0) await lookupHeld;
          return addresses[p];
        },
      }),
    ),
  );
  transports.forEach((tr, r) => (addresses[r] = tr.address));
  t.teardown(() => Promise.all(transports.map((tr) => tr.close())));
  const got: unknown[][] = [[], []];
  const arrived = transports.map(
    (tr, r) =>
      new Promise<void>((resolve) =>
        tr.start({
          onFrame: (_from, frame) => {
            got[r].push(...decodeFrame(frame).map((e) => e[3]));
            if (got[r].length === 3) resolve();
          },
          onPeerLost: (peer, reason) => t.fail(`rank ${r} lost rank ${peer}: ${reason}`),
          onError: () => {},
        }),
      ),
  );
  for (let i = 0; i < 3; i++) {
    void transports[0].send(1, encodeMessage(0, 0, 0, `a${i}`));
    void transports[1].send(0, encodeMessage(0, 0, 0, `b${i}`));
  }
  setTimeout(releaseLookup, 200);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(arrived),
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('messages did not arrive within 30 s')), 30_000))),
  ]).finally(() => clearTimeout(timer));
  t.same(got, [
    ['b0', 'b1', 'b2'],
    ['a0', 'a1', 'a2'],
  ]);
});
