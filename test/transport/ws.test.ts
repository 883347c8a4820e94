import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { WsTransport } from '../../runtime/transport/ws.ts';
import { conformance } from './conformance.ts';
import { decodeFrame, encodeMessage } from '../../runtime/transport/codec.ts';
import { randomKey } from '../../runtime/protocol/keys.ts';
import type { RankTls } from '../../runtime/transport/rank-tls.ts';

const key = randomKey();

/** A directory for the Unix sockets of a test's ranks, as dsrun makes one (launcher/local-links.ts). */
const linksDir = (): string => mkdtempSync(join(tmpdir(), 'dsmpi-links-test-'));

/**
 * The conformance suite over plain ws://, over wss:// with TLS-PSK (no certificates), and over the
 * Unix sockets of ranks that share a directory of local links.
 */
for (const [name, tls, local] of [
  ['ws', undefined, false],
  ['ws tls-psk', { kind: 'psk' }, false],
  ['ws local links', undefined, true],
] as Array<[string, RankTls | undefined, boolean]>) {
  conformance(t, name, async (n) => {
    const addresses: string[] = [];
    const localDir = local ? linksDir() : undefined;
    const transports = await Promise.all(
      Array.from({ length: n }, (_, rank) =>
        WsTransport.listen({ rank, size: n, jobId: 'conformance', key, tls, localDir, resolve: async (p) => addresses[p] }),
      ),
    );
    transports.forEach((tr, r) => (addresses[r] = tr.address));
    return {
      transports,
      crash: (r) => transports[r].terminate(),
      cleanup: async () => {
        await Promise.all(transports.map((tr) => tr.close()));
        if (localDir) rmSync(localDir, { recursive: true, force: true });
      },
    };
  });
}

/** How many Unix sockets of this machine (listening or connected) have `path` (Linux: /proc/net/unix). */
const socketsAt = (path: string): number =>
  readFileSync('/proc/net/unix', 'utf8')
    .split('\n')
    .filter((line) => line.endsWith(` ${path}`)).length;

t.test(
  'ws local links: ranks of one directory link over Unix sockets, the others over TCP',
  { skip: !existsSync('/proc/net/unix') },
  async (t) => {
    const [dirA, dirB] = [linksDir(), linksDir()];
    t.teardown(() => [dirA, dirB].forEach((dir) => rmSync(dir, { recursive: true, force: true })));
    const addresses: string[] = [];
    // Ranks 0 and 1 were started by one launcher, rank 2 by another on this host, rank 3 by none.
    const dirs = [dirA, dirA, dirB, undefined];
    const transports = await Promise.all(
      dirs.map((localDir, rank) =>
        WsTransport.listen({ rank, size: 4, jobId: 'local', key, localDir, resolve: async (p) => addresses[p] }),
      ),
    );
    transports.forEach((tr, r) => (addresses[r] = tr.address));
    const unixPath = (r: number): string | undefined => /ws\+unix:(.*):\/$/.exec(addresses[r])?.[1];
    t.match(addresses[0], /^ws:\/\/127\.0\.0\.1:\d+ ws\+unix:/, 'a rank with a directory advertises its TCP address, then its socket');
    t.equal(addresses[3].split(' ').length, 1, 'a rank without one advertises TCP only');
    t.ok(unixPath(0)!.startsWith(`${dirA}/0.`) && existsSync(unixPath(0)!), "rank 0's socket is in its launcher's directory");
    const got: string[][] = [[], [], [], []];
    let arrivedAll: () => void = () => {};
    const arrived = new Promise<void>((resolve) => (arrivedAll = resolve));
    transports.forEach((tr, r) =>
      tr.start({
        onFrame: (from, frame) => {
          got[r].push(...decodeFrame(frame).map((e) => `${from}:${e[3] as string}`));
          if (got[0].length === 3) arrivedAll();
        },
        onPeerLost: (peer, reason) => t.fail(`rank ${r} lost rank ${peer}: ${reason}`),
        onError: (err) => t.fail(`rank ${r}: ${err.message}`),
      }),
    );
    for (const r of [1, 2, 3]) void transports[r].send(0, encodeMessage(0, 0, 0, 'hi'));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      arrived,
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('messages did not arrive within 30 s')), 30_000))),
    ]).finally(() => clearTimeout(timer));
    t.same(got[0].sort(), ['1:hi', '2:hi', '3:hi']);
    t.equal(socketsAt(unixPath(0)!), 2, "rank 0's socket: the listener and rank 1's connection, not rank 2's");
    t.equal(socketsAt(unixPath(2)!), 1, "rank 2's socket: its listener only");
    const paths = [0, 1, 2].map(unixPath);
    await Promise.all(transports.map((tr) => tr.close()));
    t.same(
      paths.filter((p) => existsSync(p!)),
      [],
      'a closed rank leaves no socket file behind',
    );
  },
);

t.test('ws local links: a rank that cannot listen on its socket warns and serves TCP only', async (t) => {
  const missing = join(tmpdir(), `dsmpi-links-missing-${process.pid}`);
  const addresses: string[] = [];
  const transports = await Promise.all(
    [missing, undefined].map((localDir, rank) =>
      WsTransport.listen({ rank, size: 2, jobId: 'nodir', key, localDir, resolve: async (p) => addresses[p] }),
    ),
  );
  t.teardown(() => Promise.all(transports.map((tr) => tr.close())));
  transports.forEach((tr, r) => (addresses[r] = tr.address));
  t.equal(addresses[0].split(' ').length, 1, 'no socket advertised');
  const errors: string[] = [];
  const received = new Promise<unknown>((resolve) =>
    transports[1].start({ onFrame: (_f, frame) => resolve(decodeFrame(frame)[0][3]), onPeerLost: () => {}, onError: () => {} }),
  );
  transports[0].start({ onFrame: () => {}, onPeerLost: () => {}, onError: (err) => errors.push(err.message) });
  t.match(errors, [/cannot listen on a Unix socket \(listen E[A-Z]+: .*\): peers on this host dial over TCP/]);
  void transports[0].send(1, encodeMessage(0, 0, 0, 'over tcp'));
  t.equal(await received, 'over tcp', 'it still links');
});

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
