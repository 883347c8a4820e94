// The baseline: raw ws + msgpackr between two processes, with none of dsmpi.
//   node --import tsx bench/raw-ws.ts pingpong <iterations>   median round trip of a small object
//   node --import tsx bench/raw-ws.ts stream <messages>       one message per frame, messages/s
//   node --import tsx bench/raw-ws.ts exchange <rounds> <mib>  both sides send a <mib> MiB Buffer at once, each
//                                                             round (after a warm-up one); GB/s per direction
// Prints one JSON line. The parent is the WebSocket client; a forked child is the server.
import { fork } from 'node:child_process';
import { pack, unpack } from 'msgpackr';
import { WebSocket, WebSocketServer } from 'ws';
import { median, smallMessage } from './stats.ts';

const [mode = 'pingpong', countArg = '20000', third] = process.argv.slice(2);
const count = Number(countArg);
// exchange takes a size (MiB) before the role.
const mib = mode === 'exchange' ? Number(third ?? 256) : 0;
const role = mode === 'exchange' ? process.argv[5] : third;
const bulk = { perMessageDeflate: false, maxPayload: 2 ** 31 - 1 };

/** Both ends of the exchange: send a `mib` MiB Buffer and wait for the peer's, `count` + 1 times. */
async function exchange(ws: WebSocket): Promise<number> {
  const out = Buffer.alloc(mib * 2 ** 20, 7);
  const incoming: Buffer[] = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (data: Buffer) => {
    incoming.push(data);
    waiters.shift()?.();
  });
  const next = async (): Promise<void> => {
    if (incoming.length === 0) await new Promise<void>((resolve) => waiters.push(resolve));
    if (incoming.shift()!.length !== out.length) throw new Error('exchange: wrong size');
  };
  ws.send(out);
  await next();
  const start = performance.now();
  for (let r = 0; r < count; r++) {
    ws.send(out);
    await next();
  }
  return (out.length * count) / ((performance.now() - start) / 1000) / 1e9;
}

if (role === 'server') {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, ...bulk });
  wss.on('listening', () => process.send!({ port: (wss.address() as { port: number }).port }));
  wss.on('connection', (ws) => {
    ws.on('close', () => process.exit(0));
    if (mode === 'exchange') return void exchange(ws);
    let received = 0;
    ws.on('message', (data: Buffer) => {
      const m = unpack(data) as { round: number };
      if (mode === 'pingpong') ws.send(pack(smallMessage(m.round)));
      else if (++received === count) ws.send(pack('ack'));
    });
  });
} else {
  const serverArgs = mode === 'exchange' ? [mode, countArg, String(mib), 'server'] : [mode, countArg, 'server'];
  const child = fork(new URL(import.meta.url).pathname, serverArgs, { execArgv: ['--import', 'tsx'] });
  const { port } = await new Promise<{ port: number }>((resolve) => child.once('message', (m) => resolve(m as { port: number })));
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, bulk);
  await new Promise((resolve) => ws.once('open', resolve));
  if (mode === 'exchange') {
    console.log(JSON.stringify({ gbPerSec: await exchange(ws) }));
  } else if (mode === 'pingpong') {
    const warmup = 2000;
    const rtts: number[] = [];
    let i = 0;
    let start = 0;
    await new Promise<void>((resolve) => {
      ws.on('message', (data: Buffer) => {
        unpack(data);
        if (i >= warmup) rtts.push(performance.now() - start);
        if (++i === warmup + count) return resolve();
        start = performance.now();
        ws.send(pack(smallMessage(i)));
      });
      start = performance.now();
      ws.send(pack(smallMessage(0)));
    });
    console.log(JSON.stringify({ rttUs: median(rtts) * 1000 }));
  } else {
    const acked = new Promise((resolve) => ws.once('message', resolve));
    const start = performance.now();
    for (let i = 0; i < count; i++) {
      if (ws.bufferedAmount > 1 << 20)
        await new Promise((resolve) => (ws as unknown as { _socket: NodeJS.EventEmitter })._socket.once('drain', resolve));
      ws.send(pack(smallMessage(i)));
    }
    await acked;
    console.log(JSON.stringify({ msgsPerSec: count / ((performance.now() - start) / 1000) }));
  }
  ws.close();
  await new Promise((resolve) => child.once('exit', resolve));
}
