// dsrun's fault-and-trace wrapper passes the transport conformance suite: with delays (held
// messages must keep per-pair order and be flushed by close) and with trace stamps on the wire.
import t from 'tap';
import { MemoryNetwork } from '../../runtime/transport/memory.ts';
import { FaultyTransport } from '../../runtime/transport/faulty.ts';
import { encodeMessage } from '../../runtime/transport/codec.ts';
import type { TraceEvent } from '../../runtime/protocol/trace-event.ts';
import type { NetworkFaults } from '../../runtime/protocol/rendezvous.ts';
import { conformance } from './conformance.ts';

for (const [name, faults, traced] of [
  ['faulty (delay)', { delay: { minMs: 0, maxMs: 3 } }, false],
  ['faulty (traced)', {}, true],
  ['faulty (delay, traced)', { delay: { minMs: 0, maxMs: 3 } }, true],
] as Array<[string, NetworkFaults, boolean]>) {
  conformance(t, name, async (n) => {
    const net = new MemoryNetwork(n);
    const events: TraceEvent[] = [];
    const trace = traced ? { record: (e: TraceEvent) => events.push(e) } : undefined;
    const transports = Array.from({ length: n }, (_, rank) => new FaultyTransport(net.endpoint(rank), { rank, seed: 7, faults, trace }));
    return { transports, crash: (r) => net.kill(r), cleanup: async () => {} };
  });
}

t.test('traced: every message sent is traced once as sent and once as delivered, with the same number', async (t) => {
  const net = new MemoryNetwork(2);
  const events: TraceEvent[] = [];
  const trace = { record: (e: TraceEvent) => events.push(e) };
  const [a, b] = [0, 1].map((rank) => new FaultyTransport(net.endpoint(rank), { rank, seed: 1, faults: {}, trace }));
  const got: number[] = [];
  a.start({ onFrame: () => {}, onPeerLost: () => {}, onError: () => {} });
  const done = new Promise<void>((resolve) => {
    b.start({
      onFrame: (_from, frame) => {
        got.push(frame.length);
        if (got.length === 3) resolve();
      },
      onPeerLost: () => {},
      onError: () => {},
    });
  });
  const sent = [encodeMessage(0, 0, 5, 'x'), encodeMessage(0, 0, 6, [1, 2, 3]), encodeMessage(0, 0, 7, null)];
  for (const m of sent) await a.send(1, m);
  await done;
  t.same(
    got,
    sent.map((m) => m.length),
    'the receiver gets each message without its stamp, one by one',
  );
  const sends = events.filter((e) => e.ev === 'send');
  const delivers = events.filter((e) => e.ev === 'deliver');
  t.same(
    sends.map((e) => [e.msg, e.tag, e.to]),
    [
      [1, 5, 1],
      [2, 6, 1],
      [3, 7, 1],
    ],
  );
  t.same(
    delivers.map((e) => [e.msg, e.tag, e.from, e.rank]),
    [
      [1, 5, 0, 1],
      [2, 6, 0, 1],
      [3, 7, 0, 1],
    ],
  );
  t.ok(
    delivers.every((d, i) => d.lamport! > sends[i].lamport!),
    'a delivery is later in Lamport time than its send',
  );
});
