// The job's time 0 reaches each rank on its own host's clock (launcher/coordinator.ts): a rank on a
// host whose clock is ahead by d ms is told t0 + d, so the --partition windows it times itself open
// when the launcher's kills and pauses do. A rank that registers after the start (a spawned rank)
// is told the same.
import t from 'tap';
import { Coordinator } from '../../launcher/coordinator.ts';
import { decodeValue, encodeValue } from '../../runtime/protocol/control-codec.ts';
import { Party } from '../../runtime/protocol/handshake.ts';
import { randomKey } from '../../runtime/protocol/keys.ts';
import type { CoordinatorToRank } from '../../runtime/protocol/rendezvous.ts';
import { dial, type WebSocket } from '../../runtime/protocol/ws-dial.ts';

const jobId = 'start-offsets';

/** Rank `rank`'s control connection, and the first 'start' message it is sent. */
async function connect(coordinator: Coordinator, key: Buffer, rank: number): Promise<{ socket: WebSocket; start: Promise<number> }> {
  const socket = await new Promise<WebSocket>((resolve, reject) =>
    dial({ url: coordinator.url, hello: { purpose: 'control', jobId, from: Party.rank(rank), to: Party.coordinator }, key }, { open: resolve, fail: reject }),
  );
  const start = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`rank ${rank} was told no start within 30 s`)), 30_000);
    socket.on('message', (data: Buffer) => {
      const msg = decodeValue(data) as CoordinatorToRank;
      if (msg.t === 'start') {
        clearTimeout(timer);
        resolve(msg.t0);
      }
    });
  });
  return { socket, start };
}

t.test("each rank is told the job's time 0 on its own host's clock", async (t) => {
  const key = randomKey();
  const hellos: number[] = [];
  const coordinator = await Coordinator.start(
    { jobId, key, size: 2 },
    { hello: (rank) => hellos.push(rank), done: () => {}, abort: () => {}, warn: () => {}, hung: () => {} },
  );
  t.teardown(() => coordinator.close());
  const ranks = [await connect(coordinator, key, 0), await connect(coordinator, key, 1)];
  for (const [rank, r] of ranks.entries()) {
    t.teardown(() => r.socket.terminate());
    r.socket.send(encodeValue({ t: 'hello', rank, pid: 1, address: `ws://127.0.0.1:${9000 + rank}`, survive: false }));
  }
  const offsets = [0, 250.5, -40];
  coordinator.start(1_000, (rank) => offsets[rank]);
  t.same(await Promise.all(ranks.map((r) => r.start)), [1_000, 1_250.5], 'rank 1, on a host 250.5 ms ahead, is told 1250.5');

  // A rank spawned after the start registers with a hello and is told its own host's time 0.
  coordinator.allowRanks(3);
  const late = await connect(coordinator, key, 2);
  t.teardown(() => late.socket.terminate());
  late.socket.send(encodeValue({ t: 'hello', rank: 2, pid: 1, address: 'ws://127.0.0.1:9002', survive: false }));
  t.equal(await late.start, 960, 'a rank registering later, on a host 40 ms behind, is told 960');
});
