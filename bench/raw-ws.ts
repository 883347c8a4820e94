// The baseline: raw ws + msgpackr between two processes, with none of dsmpi.
//   node --import tsx bench/raw-ws.ts pingpong <iterations>   median round trip of a small object
//   node --import tsx bench/raw-ws.ts stream <messages>       one message per frame, messages/s
// Prints one JSON line. The parent is the WebSocket client; a forked child is the server.
import { fork } from 'node:child_process';
import { pack, unpack } from 'msgpackr';
import { WebSocket, WebSocketServer } from 'ws';
import { median, smallMessage } from './stats.ts';

const [mode = 'pingpong', countArg = '20000', role] = process.argv.slice(2);
const count = Number(countArg);

if (role === 'server') {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  wss.on('listening', () => process.send!({ port: (wss.address() as { port: number }).port }));
  wss.on('connection', (ws) => {
    let received = 0;
    ws.on('message', (data: Buffer) => {
      const m = unpack(data) as { round: number };
      if (mode === 'pingpong') ws.send(pack(smallMessage(m.round)));
      else if (++received === count) ws.send(pack('ack'));
    });
    ws.on('close', () => process.exit(0));
  });
} else {
  const child = fork(new URL(import.meta.url).pathname, [mode, countArg, 'server'], { execArgv: ['--import', 'tsx'] });
  const { port } = await new Promise<{ port: number }>((resolve) => child.once('message', (m) => resolve(m as { port: number })));
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
  await new Promise((resolve) => ws.once('open', resolve));
  if (mode === 'pingpong') {
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
