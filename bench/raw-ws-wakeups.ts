// The floor for bench/programs/collective-wakeups.ts: n Node.js processes linked pairwise by raw ws,
// messages packed by msgpackr as dsmpi packs them ([kind, context, tag, data]), none of dsmpi. The
// same loops as that program, with dsmpi's algorithms at k = 64: a star barrier (n − 1 arrivals at
// rank 0, n − 1 releases), then a barrier after a star bcast of the small object from a turning root.
// Each process reads its own resource usage around each loop; rank 0 prints one JSON object in that
// program's shape (CPU µs of all ranks per call, voluntary context switches: wake-ups).
// `link` chooses what carries the messages, to tell the layers' costs apart: ws over TCP (the
// default, what dsmpi's ranks use), ws over a Unix socket (ws-unix), and, without WebSocket framing,
// a TCP or Unix stream socket carrying length-prefixed messages (tcp, unix).
//   node --import tsx bench/raw-ws-wakeups.ts <n> [iterations] [warm-up iterations] [ws|ws-unix|tcp|unix]
import { fork } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack, unpack } from 'msgpackr';
import { WebSocket, WebSocketServer } from 'ws';
import { smallMessage, usagePerIteration, wakeupFigures, type Usage } from './stats.ts';

const [nArg = '16', itersArg = '2000', warmArg = '3000', link = 'ws', role, rankArg, runArg] = process.argv.slice(2);
const n = Number(nArg);
const iterations = Number(itersArg);
const warmUp = Number(warmArg);
for (const [name, v, min] of [
  ['n', n, 2],
  ['iterations', iterations, 1],
  ['warm-up iterations', warmUp, 1],
] as const) {
  if (!(Number.isInteger(v) && v >= min)) throw new Error(`${name} must be an integer >= ${min}, got ${v}`);
}
if (!['ws', 'ws-unix', 'tcp', 'unix'].includes(link)) throw new Error(`link must be ws, ws-unix, tcp or unix, got ${link}`);

/** What the parent (rank 0) and its children tell each other over the fork channel. */
type Control =
  | { t: 'address'; rank: number; address: string }
  | { t: 'addresses'; addresses: string[] }
  | { t: 'ready' }
  | { t: 'go' }
  | { t: 'usage'; usage: Usage[] };

const rank = role === 'child' ? Number(rankArg) : 0;
const links: Link[] = new Array(n);
/** Messages arrived and not yet taken, and receives waiting, by tag. */
const arrived = new Map<number, unknown[]>();
const waiting = new Map<number, Array<(data: unknown) => void>>();

function onMessage(data: Buffer): void {
  const [, , tag, payload] = unpack(data) as [number, number, number, unknown];
  const w = waiting.get(tag);
  if (w && w.length > 0) {
    w.shift()!(payload);
    return;
  }
  const list = arrived.get(tag) ?? [];
  list.push(payload);
  arrived.set(tag, list);
}

function recv(tag: number): Promise<unknown> {
  const list = arrived.get(tag);
  if (list && list.length > 0) {
    const data = list.shift();
    if (list.length === 0) arrived.delete(tag);
    return Promise.resolve(data);
  }
  return new Promise((resolve) => {
    const w = waiting.get(tag) ?? [];
    w.push(resolve);
    waiting.set(tag, w);
  });
}

/** Tags as dsmpi's collectives number them: 64 steps per call. */
let seq = 0;
const ARRIVE = 0;
const RELEASE = 1;

async function barrier(): Promise<void> {
  const base = seq++ * 64;
  if (rank === 0) {
    for (let i = 1; i < n; i++) await recv(base + ARRIVE);
    const bytes = pack([0, 1, base + RELEASE, null]);
    for (let r = n - 1; r >= 1; r--) links[r].send(bytes);
    return;
  }
  links[0].send(pack([0, 1, base + ARRIVE, null]));
  await recv(base + RELEASE);
}

async function bcast(data: unknown, root: number): Promise<unknown> {
  const tag = seq++ * 64;
  if (rank !== root) return recv(tag);
  const bytes = pack([0, 1, tag, data]);
  // As sendToChildren does at k >= n: the farthest child (in ranks after the root) first.
  for (let i = n - 1; i >= 1; i--) links[(root + i) % n].send(bytes);
  return data;
}

async function usageOf(withBcast: boolean): Promise<Usage> {
  await barrier();
  const before = process.resourceUsage();
  for (let i = 0; i < iterations; i++) {
    if (withBcast) await bcast(rank === i % n ? smallMessage(i) : undefined, i % n);
    await barrier();
  }
  return usagePerIteration(before, process.resourceUsage(), iterations);
}

async function loops(): Promise<Usage[]> {
  for (let i = 0; i < warmUp; i++) {
    await barrier();
    await bcast(rank === i % n ? smallMessage(i) : undefined, i % n);
  }
  return [await usageOf(false), await usageOf(true)];
}

/** One end of a link to a peer: what send() writes, the peer's onMessage gets, whole. */
interface Link {
  send(bytes: Uint8Array): void;
}

/** Where rank `rank` of this run listens: a TCP port (as a string) or a Unix socket path. */
function unixPath(r: number): string {
  return join(tmpdir(), `raw-wakeups-${runArg ?? process.pid}-${r}.sock`);
}

/**
 * A stream socket carrying messages as 4-byte big-endian lengths and bytes (links `tcp`, `unix`):
 * what is left of a link without WebSocket framing.
 */
function streamLink(socket: Socket, deliver: (bytes: Buffer) => void): Link {
  socket.setNoDelay?.(true);
  let pending: Buffer | undefined;
  socket.on('data', (chunk: Buffer) => {
    let b = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = undefined;
    while (b.length >= 4) {
      const len = b.readUInt32BE(0);
      if (b.length < 4 + len) break;
      deliver(b.subarray(4, 4 + len));
      b = b.subarray(4 + len);
    }
    if (b.length > 0) pending = b;
  });
  return {
    send(bytes) {
      const out = Buffer.allocUnsafe(4 + bytes.length);
      out.writeUInt32BE(bytes.length, 0);
      out.set(bytes, 4);
      socket.write(out);
    },
  };
}

/** Listens, then links to every rank: dials the lower ones, is dialled by the higher ones. */
async function connect(addresses: Promise<string[]>, listening: (address: string) => void): Promise<void> {
  let linked = 0;
  let allLinked: () => void = () => {};
  const done = new Promise<void>((resolve) => (allLinked = resolve));
  const add = (peer: number, l: Link): void => {
    links[peer] = l;
    if (++linked === n - 1) allLinked();
  };
  const wsLink = (socket: WebSocket): Link => {
    socket.on('message', onMessage);
    return { send: (bytes) => socket.send(bytes) };
  };
  const unix = link === 'unix' || link === 'ws-unix';
  const own = unix ? unixPath(rank) : undefined;
  if (own) rmSync(own, { force: true });
  if (link === 'ws' || link === 'ws-unix') {
    const server = createHttpServer();
    const wss = new WebSocketServer({ server, perMessageDeflate: false });
    wss.on('connection', (socket: WebSocket, req: IncomingMessage) => add(Number(req.url!.slice(1)), wsLink(socket)));
    await new Promise<void>((resolve) => (own ? server.listen(own, resolve) : server.listen(0, '127.0.0.1', resolve)));
    listening(own ?? String((server.address() as AddressInfo).port));
  } else {
    const server = createNetServer((socket) => {
      // The dialler's first message is its rank.
      const l = streamLink(socket, (bytes) => {
        if (links[bytes[0]] === undefined && bytes.length === 1) add(bytes[0], l);
        else onMessage(bytes);
      });
    });
    await new Promise<void>((resolve) => (own ? server.listen(own, resolve) : server.listen(0, '127.0.0.1', resolve)));
    listening(own ?? String((server.address() as AddressInfo).port));
  }
  const all = await addresses;
  for (let peer = 0; peer < rank; peer++) {
    if (link === 'ws' || link === 'ws-unix') {
      const url = unix ? `ws+unix://${all[peer]}:/${rank}` : `ws://127.0.0.1:${all[peer]}/${rank}`;
      const socket = new WebSocket(url, { perMessageDeflate: false });
      socket.once('open', () => add(peer, wsLink(socket)));
    } else {
      const socket = unix ? netConnect(all[peer]) : netConnect(Number(all[peer]), '127.0.0.1');
      socket.once('connect', () => {
        const l = streamLink(socket, onMessage);
        l.send(Buffer.from([rank]));
        add(peer, l);
      });
    }
  }
  await done;
}

if (role === 'child') {
  let gotAddresses: (a: string[]) => void = () => {};
  let go: () => void = () => {};
  const addresses = new Promise<string[]>((resolve) => (gotAddresses = resolve));
  const started = new Promise<void>((resolve) => (go = resolve));
  process.on('message', (m: Control) => {
    if (m.t === 'addresses') gotAddresses(m.addresses);
    if (m.t === 'go') go();
  });
  const send = (m: Control): void => void process.send!(m);
  await connect(addresses, (address) => send({ t: 'address', rank, address }));
  send({ t: 'ready' });
  await started;
  const usage = await loops();
  process.send!({ t: 'usage', usage } satisfies Control, () => process.exit(0));
} else {
  const children = Array.from({ length: n - 1 }, (_, i) =>
    fork(new URL(import.meta.url).pathname, [nArg, itersArg, warmArg, link, 'child', String(i + 1), String(process.pid)], {
      execArgv: ['--import', 'tsx'],
    }),
  );
  const all = new Array<string>(n);
  let known = 0;
  let ready = 0;
  const usages: Usage[][] = new Array(n);
  let reported = 0;
  let allKnown: () => void = () => {};
  let allReady: () => void = () => {};
  let allReported: () => void = () => {};
  const addresses = new Promise<void>((resolve) => (allKnown = resolve));
  const readyAll = new Promise<void>((resolve) => (allReady = resolve));
  const reportedAll = new Promise<void>((resolve) => (allReported = resolve));
  const learn = (r: number, address: string): void => {
    all[r] = address;
    if (++known === n) allKnown();
  };
  children.forEach((child, i) =>
    child.on('message', (m: Control) => {
      if (m.t === 'address') learn(m.rank, m.address);
      else if (m.t === 'ready') {
        if (++ready === n - 1) allReady();
      } else if (m.t === 'usage') {
        usages[i + 1] = m.usage;
        if (++reported === n - 1) allReported();
      }
    }),
  );
  // The children learn the addresses as soon as all are known: they dial while rank 0 waits for its links.
  const told = addresses.then(() => {
    for (const child of children) child.send({ t: 'addresses', addresses: all } satisfies Control);
    return all;
  });
  await connect(told, (address) => learn(0, address));
  await readyAll;
  for (const child of children) child.send({ t: 'go' } satisfies Control);
  usages[0] = await loops();
  await reportedAll;
  await Promise.all(children.map((c) => new Promise((resolve) => c.once('exit', resolve))));
  if (link === 'unix' || link === 'ws-unix') for (let r = 0; r < n; r++) rmSync(unixPath(r), { force: true });
  console.log(JSON.stringify({ n, link, iterations, barrier: wakeupFigures(usages, 0), bcast: wakeupFigures(usages, 1, 0) }));
  process.exit(0);
}
