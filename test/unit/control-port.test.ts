// Rank threads (dsrun --threads) speak the control protocol to the coordinator over a MessagePort
// (Coordinator.serve, runtime/transport/control-port.ts) instead of a WebSocket: registration, the
// job's start, status, the end, heartbeats, and a coordinator gone before the end.
import t, { type Test } from 'tap';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Coordinator, type CoordinatorEvents } from '../../launcher/coordinator.ts';
import { randomKey } from '../../runtime/protocol/keys.ts';
import type { CoordinatorToRank } from '../../runtime/protocol/rendezvous.ts';
import { PortControl } from '../../runtime/transport/control-port.ts';

/** Resolves once `check()` holds, looking every 10 ms; fails after `limitMs` (generous: a loaded machine). */
async function until(what: string, check: () => boolean, limitMs = 30_000): Promise<void> {
  const end = performance.now() + limitMs;
  while (!check()) {
    if (performance.now() > end) throw new Error(`not within ${limitMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const quiet: CoordinatorEvents = { hello: () => {}, done: () => {}, abort: () => {}, warn: () => {} };

async function coordinator(t: Test, size: number, events: Partial<CoordinatorEvents>, heartbeatMs = 0): Promise<Coordinator> {
  const c = await Coordinator.start({ jobId: 'ports', key: randomKey(), size, heartbeatMs, heartbeatMisses: 3 }, { ...quiet, ...events });
  t.teardown(() => c.close());
  return c;
}

/** A rank's control link served by `c`, and what it received. */
function rank(c: Coordinator, r: number): { control: PortControl; got: CoordinatorToRank[]; lost: string[]; port: MessagePort } {
  const { port1, port2 } = new MessageChannel();
  c.serve(r, port1);
  const got: CoordinatorToRank[] = [];
  const lost: string[] = [];
  const control = new PortControl(port2, { onMessage: (m) => got.push(m), onLost: (why) => lost.push(why), onError: () => {} });
  return { control, got, lost, port: port2 };
}

t.test('ranks register, start and learn each other with the start, answer status and finish over their ports', async (t) => {
  const hellos: number[] = [];
  const done: number[] = [];
  const c = await coordinator(t, 2, { hello: (r) => hellos.push(r), done: (r) => done.push(r) });
  const a = rank(c, 0);
  const b = rank(c, 1);
  await a.control.send({ t: 'hello', rank: 0, pid: process.pid, address: '', survive: false });
  await b.control.send({ t: 'hello', rank: 1, pid: process.pid, address: '', survive: true });
  await until('both registered', () => hellos.length === 2);
  t.same(hellos.sort(), [0, 1]);
  c.start(1234);
  await until('the start reaches both', () => [a, b].every((x) => x.got.some((m) => m.t === 'start')));
  for (const [r, x] of [a, b].entries()) {
    t.same(
      x.got.filter((m) => m.t === 'peer'),
      [],
      `rank ${r} is sent no address before the start`,
    );
    t.same(
      x.got.find((m) => m.t === 'start'),
      {
        t: 'start',
        t0: 1234,
        peers: [
          [0, ''],
          [1, ''],
        ],
      },
      `rank ${r} learns both with it`,
    );
  }

  // --timeout's question: the rank's handler answers it as a process rank would.
  const status = c.status(1, 10_000);
  await until('rank 1 is asked', () => b.got.some((m) => m.t === 'status?'));
  await b.control.send({ t: 'status', waiting: [{ what: 'recv(source 0, tag 7)', forMs: 5 }] });
  t.same(await status, [{ what: 'recv(source 0, tag 7)', forMs: 5 }], 'the answer reaches the coordinator');

  await a.control.send({ t: 'done' });
  await b.control.send({ t: 'done' });
  await until('both done', () => done.length === 2);
  c.finish();
  await until('the finish reaches both', () => [a, b].every((x) => x.got.some((m) => m.t === 'finish')));
  await c.close();
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.same([...a.lost, ...b.lost], [], 'closing after the finish is no loss');
});

t.test('a rank whose port closes before the finish learns the launcher is gone', async (t) => {
  const c = await coordinator(t, 1, {});
  const a = rank(c, 0);
  const closed = new Promise((resolve) => a.port.once('close', resolve));
  await c.close();
  await closed;
  t.same(a.lost, ['the launcher closed the control port']);
});

t.test('heartbeats: pings answered from the rank thread keep it alive; a rank that stops answering is reported', async (t) => {
  const hung: number[] = [];
  const c = await coordinator(t, 2, { hung: (r) => hung.push(r) }, 20);
  const alive = rank(c, 0);
  // Rank 1 reads its port but never answers a ping, as a thread stuck in a synchronous loop would not.
  const { port1, port2 } = new MessageChannel();
  c.serve(1, port1);
  let pings = 0;
  port2.on('message', (m: CoordinatorToRank) => {
    if (m.t === 'ping') pings++;
  });
  t.teardown(() => port2.close());
  await until('the silent rank is reported', () => hung.includes(1));
  t.ok(pings >= 3, `after its pings went unanswered (${pings})`);
  t.notOk(hung.includes(0), 'the rank that answers is not reported');
  t.notOk(
    alive.got.some((m) => m.t === 'ping'),
    "pings are answered by the rank's link, not passed to the rank",
  );
});
