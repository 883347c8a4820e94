import t from 'tap';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { PortTransport } from '../../runtime/transport/port.ts';
import { conformance } from './conformance.ts';

/** n transports joined by one MessageChannel per pair, as dsrun --threads joins its worker threads. */
function mesh(n: number): PortTransport[] {
  const ports: Array<Array<MessagePort | undefined>> = Array.from({ length: n }, () => new Array(n).fill(undefined));
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      const { port1, port2 } = new MessageChannel();
      ports[a][b] = port1;
      ports[b][a] = port2;
    }
  }
  return ports.map((row) => new PortTransport(row));
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

t.test('port: sending to an ended peer is DS_ERR_PEER_LOST; a rank without a link is DS_ERR_INVALID_RANK', async (t) => {
  const [a, b] = mesh(2);
  const lost = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('rank 1 not reported lost within 5 s')), 5000);
    a.start({ onFrame: () => {}, onPeerLost: (peer) => (clearTimeout(timer), resolve(peer)), onError: () => {} });
  });
  b.start({ onFrame: () => {}, onPeerLost: () => {}, onError: () => {} });
  b.terminate();
  t.equal(await lost, 1, 'rank 1 reported lost');
  t.throws(() => a.send(1, new Uint8Array([1])), { code: 'DS_ERR_PEER_LOST' });
  t.throws(() => a.send(5, new Uint8Array([1])), { code: 'DS_ERR_INVALID_RANK' });
  await a.close();
});
