// The job's time 0 reaches each rank on its own host's clock (launcher/coordinator.ts): a rank on a
// host whose clock is ahead by d ms is told t0 + d, so the --partition windows it times itself open
// when the launcher's kills and pauses do. A rank that registers after the start (a spawned rank)
// is told the same. The addresses of the ranks go with the start, one message per rank.
import t from 'tap';
import { Coordinator } from '../../launcher/coordinator.ts';
import { decodeValue, encodeValue } from '../../runtime/protocol/control-codec.ts';
import { Party } from '../../runtime/protocol/handshake.ts';
import { randomKey } from '../../runtime/protocol/keys.ts';
import type { CoordinatorToRank } from '../../runtime/protocol/rendezvous.ts';
import { dial, type WebSocket } from '../../runtime/protocol/ws-dial.ts';

const jobId = 'start-offsets';

/** A rank's control connection: what it has been sent, and the first message that `match` holds for. */
interface RankLink {
  socket: WebSocket;
  got: CoordinatorToRank[];
  first<T extends CoordinatorToRank>(match: (msg: CoordinatorToRank) => msg is T): Promise<T>;
}

/** Rank `rank`'s control connection. */
async function connect(coordinator: Coordinator, key: Buffer, rank: number): Promise<RankLink> {
  const socket = await new Promise<WebSocket>((resolve, reject) =>
    dial(
      { url: coordinator.url, hello: { purpose: 'control', jobId, from: Party.rank(rank), to: Party.coordinator }, key },
      { open: resolve, fail: reject },
    ),
  );
  const got: CoordinatorToRank[] = [];
  socket.on('message', (data: Buffer) => got.push(decodeValue(data) as CoordinatorToRank));
  const first = <T extends CoordinatorToRank>(match: (msg: CoordinatorToRank) => msg is T): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`rank ${rank} was told nothing of the kind within 30 s`)), 30_000);
      const check = (): void => {
        const found = got.find(match);
        if (!found) return;
        clearTimeout(timer);
        socket.off('message', later);
        resolve(found);
      };
      // After the listener above has recorded the message.
      const later = (): void => check();
      socket.on('message', later);
      check();
    });
  return { socket, got, first };
}

const isStart = (msg: CoordinatorToRank): msg is Extract<CoordinatorToRank, { t: 'start' }> => msg.t === 'start';

t.test("each rank is told the job's time 0 on its own host's clock", async (t) => {
  const key = randomKey();
  let registered: () => void = () => {};
  const bothRegistered = new Promise<void>((resolve) => (registered = resolve));
  const hellos: number[] = [];
  const coordinator = await Coordinator.start(
    { jobId, key, size: 2 },
    {
      hello: (rank) => hellos.push(rank) === 2 && registered(),
      done: () => {},
      abort: () => {},
      warn: () => {},
      hung: () => {},
    },
  );
  t.teardown(() => coordinator.close());
  const ranks = [await connect(coordinator, key, 0), await connect(coordinator, key, 1)];
  for (const [rank, r] of ranks.entries()) {
    t.teardown(() => r.socket.terminate());
    r.socket.send(encodeValue({ t: 'hello', rank, pid: 1, address: `ws://127.0.0.1:${9000 + rank}`, survive: false }));
  }
  // As the launcher does: the job starts once every rank has registered.
  await bothRegistered;
  const offsets = [0, 250.5, -40];
  coordinator.start(1_000, (rank) => offsets[rank]);
  const starts = await Promise.all(ranks.map((r) => r.first(isStart)));
  t.same(
    starts.map((s) => s.t0),
    [1_000, 1_250.5],
    'rank 1, on a host 250.5 ms ahead, is told 1250.5',
  );
  const both: Array<[number, string]> = [
    [0, 'ws://127.0.0.1:9000'],
    [1, 'ws://127.0.0.1:9001'],
  ];
  for (const [rank, s] of starts.entries()) t.same(s.peers, both, `rank ${rank} learns every address with the start`);
  for (const [rank, r] of ranks.entries())
    t.same(r.got.slice(0, r.got.indexOf(starts[rank])), [], `rank ${rank} is told nothing before it`);

  // A rank spawned after the start registers with a hello and is told its own host's time 0.
  coordinator.allowRanks(3);
  const late = await connect(coordinator, key, 2);
  t.teardown(() => late.socket.terminate());
  late.socket.send(encodeValue({ t: 'hello', rank: 2, pid: 1, address: 'ws://127.0.0.1:9002', survive: false }));
  const lateStart = await late.first(isStart);
  t.equal(lateStart.t0, 960, 'a rank registering later, on a host 40 ms behind, is told 960');
  t.same(lateStart.peers, [...both, [2, 'ws://127.0.0.1:9002']], 'and every address');
  const told = await ranks[0].first((msg): msg is Extract<CoordinatorToRank, { t: 'peer' }> => msg.t === 'peer');
  t.same(told, { t: 'peer', rank: 2, address: 'ws://127.0.0.1:9002' }, 'the ranks already started learn its address');
});
