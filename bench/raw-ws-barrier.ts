// The floor for a barrier of n Node.js processes over WebSockets: raw ws, none of dsmpi, the
// fewest messages (a star: n − 1 arrivals at the parent, n − 1 releases). Median iteration at the
// parent after a warm-up of 3,000 barriers; prints one JSON line {n, barrierUs}.
//   node --import tsx bench/raw-ws-barrier.ts <n> [iterations]
import { fork } from 'node:child_process';
import { WebSocket, WebSocketServer } from 'ws';
import { median } from './stats.ts';

const [nArg = '16', itersArg = '2000', role, portArg] = process.argv.slice(2);
const n = Number(nArg);
const iterations = Number(itersArg);
const WARMUP = 3000; // as long as the dsmpi side's warm-up: V8 compiles the hot paths
const ARRIVE = Buffer.from([1]);
const RELEASE = Buffer.from([2]);
const STOP = Buffer.from([3]);
if (!(Number.isInteger(n) && n >= 2)) throw new Error(`n must be an integer >= 2, got ${nArg}`);

if (role === 'child') {
  const ws = new WebSocket(`ws://127.0.0.1:${portArg}`, { perMessageDeflate: false });
  ws.on('open', () => ws.send(ARRIVE));
  ws.on('message', (data: Buffer) => {
    if (data[0] === STOP[0]) ws.close();
    else ws.send(ARRIVE);
  });
  ws.on('close', () => process.exit(0));
} else {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise((resolve) => wss.once('listening', resolve));
  const port = (wss.address() as { port: number }).port;
  const children = Array.from({ length: n - 1 }, () =>
    fork(new URL(import.meta.url).pathname, [nArg, itersArg, 'child', String(port)], { execArgv: ['--import', 'tsx'] }),
  );
  const times: number[] = [];
  await new Promise<void>((resolve) => {
    const sockets: WebSocket[] = [];
    let arrived = 0;
    let round = 0;
    let start = 0;
    wss.on('connection', (socket) => {
      sockets.push(socket);
      socket.on('message', () => {
        if (++arrived < n - 1) return;
        arrived = 0;
        if (round >= WARMUP) times.push(performance.now() - start);
        if (++round === WARMUP + iterations) {
          for (const s of sockets) s.send(STOP);
          return resolve();
        }
        start = performance.now();
        for (const s of sockets) s.send(RELEASE);
      });
    });
  });
  await Promise.all(children.map((c) => new Promise((resolve) => c.once('exit', resolve))));
  wss.close();
  console.log(JSON.stringify({ n, barrierUs: median(times) * 1000 }));
}
