// A rank's handshake, recorded on the wire, replayed verbatim to another rank of the job and to the
// same rank: refused, and nothing it carried is delivered. An attacker that claims a rank and then
// stalls does not hold that rank's link: the real rank connects meanwhile.
import { Buffer } from 'node:buffer';
import { connect } from 'node:net';
import t from 'tap';
import { HandshakeHeader, newNonce, Party } from '../../runtime/protocol/handshake.ts';
import { randomKey } from '../../runtime/protocol/keys.ts';
import { decodeFrame, encodeMessage } from '../../runtime/transport/codec.ts';
import { WsTransport } from '../../runtime/transport/ws.ts';
import { recordingProxy, replay } from '../helpers/recording-proxy.ts';

const key = randomKey();

/** Ranks 0..2 of one job; rank 1 reaches rank 0 through `via` (a port) when given. */
async function job(via?: () => number): Promise<{ ranks: WsTransport[]; frames: string[][]; errors: string[][] }> {
  const addresses: string[] = [];
  const ranks = await Promise.all(
    [0, 1, 2].map((rank) =>
      WsTransport.listen({
        rank,
        size: 3,
        jobId: 'replay',
        key,
        resolve: async (p) => (rank === 1 && p === 0 && via ? `ws://127.0.0.1:${via()}` : addresses[p]),
      }),
    ),
  );
  ranks.forEach((r, i) => (addresses[i] = r.address));
  const frames: string[][] = [[], [], []];
  const errors: string[][] = [[], [], []];
  ranks.forEach((r, i) =>
    r.start({
      onFrame: (from, frame) => frames[i].push(...decodeFrame(frame).map((e) => `${from}:${String(e[3])}`)),
      onPeerLost: () => {},
      onError: (err) => errors[i].push(err.message),
    }),
  );
  return { ranks, frames, errors };
}

async function until(what: string, check: () => boolean, limitMs = 15_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`not within ${limitMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

t.test("rank 1's handshake to rank 0, replayed to rank 2 and to rank 0: refused, nothing delivered", async (t) => {
  let proxyPort = 0;
  const { ranks, frames, errors } = await job(() => proxyPort);
  const proxy = await recordingProxy(Number(new URL(ranks[0].address).port));
  proxyPort = proxy.port;
  t.teardown(async () => {
    await proxy.close();
    await Promise.all(ranks.map((r) => r.close()));
  });
  void ranks[1].send(0, encodeMessage(0, 0, 0, 'genuine'));
  await until('rank 0 got the genuine message', () => frames[0].includes('1:genuine'));
  const recorded = proxy.recordings[0].toServer;
  t.match(Buffer.concat(recorded).toString('latin1'), /x-dsmpi-from: rank:1/i, 'the recording is rank 1 dialling');

  const toOther = await replay(Number(new URL(ranks[2].address).port), recorded);
  t.ok(toOther.closedByServer, 'rank 2 closes the replayed connection');
  t.match(toOther.answer.toString('latin1'), /^HTTP\/1\.1 401/, 'rank 2 refuses a handshake made for rank 0');
  const toSame = await replay(Number(new URL(ranks[0].address).port), recorded);
  t.ok(toSame.closedByServer, 'rank 0 closes the replayed connection');
  t.match(toSame.answer.toString('latin1'), /^HTTP\/1\.1 101/, 'rank 0 answers with a fresh challenge …');
  await until('rank 0 logs the refusal', () => errors[0].some((e) => /wrong proof/.test(e)));
  t.pass('… and refuses the recorded proof');
  // The genuine link still works, and no replayed frame was delivered anywhere.
  void ranks[1].send(0, encodeMessage(0, 0, 0, 'after'));
  await until('rank 0 got the message sent after the replays', () => frames[0].includes('1:after'));
  t.same(frames[0], ['1:genuine', '1:after'], 'rank 0 got exactly the genuine messages');
  t.same(frames[2], [], 'rank 2 got nothing');
});

t.test('an attacker claiming rank 1 that stalls does not hold the link: the real rank 1 connects', async (t) => {
  const { ranks, frames } = await job();
  t.teardown(() => Promise.all(ranks.map((r) => r.close())));
  const port = Number(new URL(ranks[2].address).port);
  const stalled = connect(port, '127.0.0.1', () =>
    stalled.write(
      [
        'GET / HTTP/1.1',
        'Host: x',
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${Buffer.alloc(16, 1).toString('base64')}`,
        'Sec-WebSocket-Version: 13',
        `${HandshakeHeader.job}: replay`,
        `${HandshakeHeader.from}: ${Party.rank(1)}`,
        `${HandshakeHeader.to}: ${Party.rank(2)}`,
        `${HandshakeHeader.nonce}: ${newNonce()}`,
        '',
        '',
      ].join('\r\n'),
    ),
  );
  let answer = '';
  stalled.on('data', (d) => (answer += String(d)));
  stalled.on('error', () => {});
  await until('the attacker got its challenge', () => /^HTTP\/1\.1 101/.test(answer));
  // The attacker cannot answer the challenge, and stalls; meanwhile the real rank 1 sends.
  void ranks[1].send(2, encodeMessage(0, 0, 0, 'real'));
  await until('rank 2 got the real message', () => frames[2].includes('1:real'));
  t.pass('the real rank 1 got through while the impostor held a connection');
  await until('the stalled impostor is cut at the deadline', () => stalled.destroyed || stalled.readyState === 'closed');
  t.pass('the impostor was cut');
});
