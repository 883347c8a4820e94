// The WebSocket transport over TLS (wss://): the conformance suite, then what makes the links
// really TLS: no plain connection, only a certificate of the trusted CA that names the address.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { encodeMessage } from '../../runtime/transport/codec.ts';
import type { RankTls } from '../../runtime/transport/rank-tls.ts';
import { randomKey } from '../../runtime/protocol/keys.ts';
import { WsTransport } from '../../runtime/transport/ws.ts';
import { createTestCa, opensslUnavailable } from '../helpers/test-certs.ts';
import { plainWebSocket, tlsHandshake } from '../helpers/tls-probe.ts';
import { conformance } from './conformance.ts';

const why = opensslUnavailable();
if (why) {
  t.plan(0, `skipped: ${why}`);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'dsmpi-ws-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ca = createTestCa(dir, 'ca');
  const stranger = createTestCa(dir, 'stranger-ca');
  const read = (files: { cert: string; key: string }, caFile: string): RankTls => ({
    kind: 'cert',
    cert: readFileSync(files.cert),
    key: readFileSync(files.key),
    ca: readFileSync(caFile),
  });
  const jobKey = randomKey();
  const loopback = read(ca.issue('loopback', ['127.0.0.1']), ca.cert);

  /** Ranks 0..n-1 on 127.0.0.1, rank r with tls[r]; each finds the others' addresses in the list. */
  async function listen(tls: Array<RankTls | undefined>): Promise<WsTransport[]> {
    const addresses: string[] = [];
    const transports = await Promise.all(
      tls.map((rankTls, rank) =>
        WsTransport.listen({
          rank,
          size: tls.length,
          jobId: 'tls',
          key: jobKey,
          tls: rankTls,
          resolve: async (p) => addresses[p],
        }),
      ),
    );
    transports.forEach((tr, r) => (addresses[r] = tr.address));
    return transports;
  }

  /** Why rank 0 lost rank 1 after sending to it (its peer-lost reason). */
  function lostReason(transports: WsTransport[]): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('rank 0 did not give up on rank 1 within 30 s')), 30_000);
      transports[0].start({
        onFrame: () => reject(new Error('a frame arrived')),
        onPeerLost: (_peer, reason) => {
          clearTimeout(timer);
          resolve(reason);
        },
        onError: () => {},
      });
      transports[1].start({ onFrame: () => reject(new Error('rank 1 accepted a frame')), onPeerLost: () => {}, onError: () => {} });
      void transports[0].send(1, encodeMessage(0, 0, 0, 'hello'));
    });
  }

  conformance(t, 'wss', async (n) => {
    const transports = await listen(Array.from({ length: n }, () => loopback));
    return {
      transports,
      crash: (r) => transports[r].terminate(),
      cleanup: async () => {
        await Promise.all(transports.map((tr) => tr.close()));
      },
    };
  });

  t.test('wss: a rank serves only TLS, with a certificate of the trusted CA', async (t) => {
    const [rank] = await listen([loopback]);
    t.teardown(() => rank.close());
    t.match(rank.address, /^wss:\/\/127\.0\.0\.1:\d+$/);
    const port = Number(new URL(rank.address).port);
    const plain = await plainWebSocket('127.0.0.1', port);
    t.match(plain, /^error: /, `a plain ws:// connection gets no HTTP answer (${plain})`);
    t.equal(await tlsHandshake('127.0.0.1', port, ca.cert), 'authorized', 'a TLS client trusting the CA verifies the rank');
    t.match(await tlsHandshake('127.0.0.1', port, stranger.cert), /^error: .*certificate/, 'a client trusting another CA refuses it');
  });

  t.test('wss: a rank that trusts another CA refuses its peer (no man in the middle)', async (t) => {
    const transports = await listen([read(ca.issue('r0', ['127.0.0.1']), stranger.cert), loopback]);
    t.teardown(() => Promise.all(transports.map((tr) => tr.close())));
    t.match(
      await lostReason(transports),
      /cannot connect to rank 1: unable to verify the first certificate \(TLS: the certificate must chain to DSMPI_TLS_CA/,
    );
  });

  t.test('wss: a certificate of the trusted CA for another address is refused', async (t) => {
    const elsewhere = read(ca.issue('elsewhere', ['10.9.9.9']), ca.cert);
    const transports = await listen([loopback, elsewhere]);
    t.teardown(() => Promise.all(transports.map((tr) => tr.close())));
    t.match(await lostReason(transports), /cannot connect to rank 1: .*IP: 127\.0\.0\.1 is not in the cert's list/);
  });

  t.test('wss: a rank with TLS does not dial a peer in the clear', async (t) => {
    const transports = await listen([loopback, undefined]);
    t.teardown(() => Promise.all(transports.map((tr) => tr.close())));
    t.match(transports[1].address, /^ws:\/\//);
    t.match(await lostReason(transports), /rank 1 listens at ws:\/\/127\.0\.0\.1:\d+, not wss:\/\//);
  });
}
