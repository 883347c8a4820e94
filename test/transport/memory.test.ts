import t from 'tap';
import { MemoryNetwork } from '../../runtime/transport/memory.ts';
import { encodeMessage } from '../../runtime/transport/codec.ts';
import { conformance } from './conformance.ts';

conformance(t, 'memory', async (n) => {
  const net = new MemoryNetwork(n);
  const transports = Array.from({ length: n }, (_, r) => net.endpoint(r));
  return { transports, crash: (r) => net.kill(r), cleanup: async () => {} };
});

t.test('memory: kill loses what the rank has in flight, tells the others at once, and its later sends complete, lost', async (t) => {
  const net = new MemoryNetwork(3);
  const seen: string[] = [];
  for (let r = 0; r < 3; r++) {
    net.endpoint(r).start({
      onFrame: (from) => seen.push(`${r} got a frame from ${from}`),
      onPeerLost: (peer, reason) => seen.push(`${r} lost ${peer} (${reason})`),
      onError: (err) => seen.push(`${r} error ${err.message}`),
    });
  }
  const frame = encodeMessage(0, 0, 1, 'x');
  await net.endpoint(2).send(0, frame);
  await net.endpoint(1).send(0, frame);
  net.kill(2);
  t.same(seen, ['0 lost 2 (killed)', '1 lost 2 (killed)'], 'told before the next turn');
  t.equal(net.endpoint(2).send(1, frame), undefined, 'a killed rank sends into the void');
  // The network delivers on the next event-loop turn, which was scheduled before this one.
  await new Promise((resolve) => setImmediate(resolve));
  t.same(seen.slice(2), ['0 got a frame from 1'], "rank 2's message in flight is lost; rank 1's arrives");
});
