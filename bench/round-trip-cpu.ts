// What a small-message round trip costs the CPU, apart from waking processes: two ranks in ONE
// process exchange the small object back and forth over loopback, so the process never waits for the
// other side to be scheduled, and its CPU time per round trip (user + system) is the work of two
// one-way messages, sends, reads and dispatch, much as a loaded machine leaves it (wall time does
// not). dsmpi: two engines over WsTransport, send and recv; raw: two ws sockets with msgpackr, none
// of dsmpi. Profile with `node --cpu-prof --import tsx bench/round-trip-cpu.ts dsmpi`.
//   node --import tsx bench/round-trip-cpu.ts <dsmpi|raw> [round trips]
import { pack, unpack } from 'msgpackr';
import { WebSocket, WebSocketServer } from 'ws';
import { realClock } from '../runtime/clock.ts';
import { Engine } from '../runtime/engine.ts';
import { randomKey } from '../runtime/protocol/keys.ts';
import { startRank } from '../runtime/start-rank.ts';
import { msgpackCodec } from '../runtime/transport/codec.ts';
import { WsTransport } from '../runtime/transport/ws.ts';
import { smallMessage } from './stats.ts';

const WARM_UP = 20_000;
const mode = process.argv[2];
const roundTrips = Number(process.argv[3] ?? 50_000);
if ((mode !== 'dsmpi' && mode !== 'raw') || !(Number.isInteger(roundTrips) && roundTrips > 0)) {
  throw new Error('usage: round-trip-cpu.ts <dsmpi|raw> [round trips]');
}

/** Runs `n` round trips of the small object. */
type Loop = (n: number) => Promise<void>;

async function dsmpiLoop(): Promise<Loop> {
  const key = randomKey();
  const addresses: string[] = [];
  const transports = await Promise.all(
    [0, 1].map((rank) => WsTransport.listen({ rank, size: 2, jobId: 'round-trip-cpu', key, resolve: async (p) => addresses[p] })),
  );
  transports.forEach((tr, r) => (addresses[r] = tr.address));
  const [a, b] = transports.map((transport, rank) =>
    startRank(new Engine({ codec: msgpackCodec, rank, size: 2, transport, clock: realClock, seed: 1, abort: () => {} }), {}),
  );
  return async (n) => {
    const ping = async (): Promise<void> => {
      for (let i = 0; i < n; i++) {
        await a.send(smallMessage(i), 1);
        await a.recv(1);
      }
    };
    const pong = async (): Promise<void> => {
      for (let i = 0; i < n; i++) {
        const m = await b.recv<{ round: number }>(0);
        await b.send(smallMessage(m.data.round), 0);
      }
    };
    await Promise.all([ping(), pong()]);
  };
}

async function rawLoop(): Promise<Loop> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  const accepted = new Promise<WebSocket>((resolve) => server.once('connection', resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as { port: number }).port}`);
  await new Promise((resolve) => client.once('open', resolve));
  const peer = await accepted;
  peer.on('message', (data: Buffer) => peer.send(pack(smallMessage((unpack(data) as { round: number }).round))));
  let next: () => void = () => {};
  client.on('message', (data: Buffer) => {
    unpack(data);
    next();
  });
  return async (n) => {
    for (let i = 0; i < n; i++) {
      await new Promise<void>((resolve) => {
        next = resolve;
        client.send(pack(smallMessage(i)));
      });
    }
  };
}

const loop = mode === 'dsmpi' ? await dsmpiLoop() : await rawLoop();
await loop(WARM_UP);
const before = process.cpuUsage();
await loop(roundTrips);
const used = process.cpuUsage(before);
const us = (x: number): number => Math.round((x / roundTrips) * 100) / 100;
console.log(JSON.stringify({ mode, roundTrips, cpuUs: us(used.user + used.system), userUs: us(used.user), systemUs: us(used.system) }));
process.exit(0);
