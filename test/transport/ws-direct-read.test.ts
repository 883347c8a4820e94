import { Buffer } from 'node:buffer';
import type { AddressInfo, Socket } from 'node:net';
import t, { type Test } from 'tap';
import { WebSocket, WebSocketServer } from 'ws';
import { readFramesDirectly } from '../../runtime/transport/ws-direct-read.ts';

/** A binary frame as a dialler writes it: FIN, binary, the mask bit and `key` (zero: as ranks write them). */
function maskedFrame(payload: Buffer, key = [0, 0, 0, 0]): Buffer {
  const n = payload.length;
  const lengthBytes = n < 126 ? 0 : n < 65536 ? 2 : 8;
  const head = Buffer.alloc(2 + lengthBytes + 4);
  head[0] = 0x82;
  head[1] = 0x80 | (lengthBytes === 0 ? n : lengthBytes === 2 ? 126 : 127);
  if (lengthBytes === 2) head.writeUInt16BE(n, 2);
  if (lengthBytes === 8) head.writeBigUInt64BE(BigInt(n), 2);
  head.set(key, 2 + lengthBytes);
  const body = Buffer.from(payload.map((b, i) => b ^ key[i % 4]));
  return Buffer.concat([head, body]);
}

/** An unfragmented frame of `opcode` from a dialler with a zero key (a ping: 0x89, text: 0x81). */
function controlFrame(opcode: number, payload: Buffer): Buffer {
  const frame = maskedFrame(payload);
  frame[0] = opcode;
  return frame;
}

/**
 * A listener and a dialler linked by ws on 127.0.0.1; the listener's side reads directly. `got`
 * lists what it received, in order, and which way: 'direct' or 'ws' (the 'message' event).
 */
async function pair(t: Test): Promise<{
  raw: Socket;
  client: WebSocket;
  /** Whether ws's receiver on the listener's side is in the middle of a frame. */
  midFrame: () => boolean;
  got: Array<[string, string]>;
  took: boolean;
  pongs: Buffer[];
  /** Errors ws reported on the listener's side. */
  errors: Error[];
}> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 1 << 20 });
  await new Promise((resolve) => wss.once('listening', resolve));
  const got: Array<[string, string]> = [];
  const errors: Error[] = [];
  let midFrame = (): boolean => false;
  let serverSide: WebSocket | undefined;
  const accepted = new Promise<boolean>((resolve) =>
    wss.once('connection', (server: WebSocket) => {
      serverSide = server;
      const receiver = (server as unknown as { _receiver: { _state: number; _bufferedBytes: number } })._receiver;
      midFrame = () => receiver._state !== 0 || receiver._bufferedBytes > 0;
      server.on('error', (err) => errors.push(err));
      server.on('message', (data: Buffer, isBinary: boolean) => got.push(['ws', isBinary ? data.toString() : `text ${data.toString()}`]));
      resolve(readFramesDirectly(server, (data) => got.push(['direct', data.toString()])));
    }),
  );
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, { perMessageDeflate: false });
  await new Promise((resolve) => client.once('open', resolve));
  const pongs: Buffer[] = [];
  client.on('pong', (data: Buffer) => pongs.push(data));
  const took = await accepted;
  t.teardown(() => {
    client.terminate();
    serverSide?.terminate();
    wss.close();
  });
  return { raw: (client as unknown as { _socket: Socket })._socket, client, midFrame: () => midFrame(), got, took, pongs, errors };
}

/** Waits, a turn of the event loop at a time, until `ready()`. */
async function until(ready: () => boolean): Promise<void> {
  while (!ready()) await new Promise((resolve) => setImmediate(resolve));
}

t.test('frames written as ranks write them, several in one read, are read directly, in order', async (t) => {
  const { raw, got, took } = await pair(t);
  t.ok(took, 'takes over the socket of ws 8');
  raw.write(Buffer.concat(['a', 'bb', 'x'.repeat(300)].map((s) => maskedFrame(Buffer.from(s)))));
  await until(() => got.length >= 3);
  t.same(got, [
    ['direct', 'a'],
    ['direct', 'bb'],
    ['direct', 'x'.repeat(300)],
  ]);
});

t.test('what ws must read goes to ws, in order with the frames read directly', async (t) => {
  const { raw, got, pongs } = await pair(t);
  raw.write(
    Buffer.concat([
      maskedFrame(Buffer.from('1')),
      controlFrame(0x89, Buffer.from('ping')), // answered by ws
      maskedFrame(Buffer.from('2')),
      maskedFrame(Buffer.from('3'), [1, 2, 3, 4]), // a non-zero key: ws unmasks it
      maskedFrame(Buffer.from('4')),
    ]),
  );
  await until(() => got.length >= 4);
  await until(() => pongs.length >= 1);
  t.same(got, [
    ['direct', '1'],
    ['ws', '2'],
    ['ws', '3'],
    ['ws', '4'],
  ]);
  t.equal(pongs[0].toString(), 'ping', 'ws answered the ping');
  // ws holds nothing now: the next read is read directly again.
  raw.write(maskedFrame(Buffer.from('5')));
  await until(() => got.length >= 5);
  t.same(got[4], ['direct', '5']);
});

t.test('a frame split across writes is put together by ws, and direct reading resumes after it', async (t) => {
  const { raw, midFrame, got } = await pair(t);
  const frame = maskedFrame(Buffer.from('y'.repeat(1000)));
  raw.write(frame.subarray(0, 10));
  // The rest is written once ws holds the first part.
  await until(midFrame);
  raw.write(Buffer.concat([frame.subarray(10), maskedFrame(Buffer.from('z'))]));
  await until(() => got.length >= 2);
  t.same(
    got.map(([, s]) => s),
    ['y'.repeat(1000), 'z'],
  );
  t.equal(got[0][0], 'ws', 'the split frame went through ws');
  raw.write(maskedFrame(Buffer.from('after')));
  await until(() => got.length >= 3);
  t.same(got[2], ['direct', 'after']);
});

t.test('a frame over maxPayload is left to ws, which closes the connection with 1009', async (t) => {
  const { raw, client, got, errors } = await pair(t);
  const closed = new Promise<number>((resolve) => client.once('close', (code: number) => resolve(code)));
  raw.write(maskedFrame(Buffer.alloc((1 << 20) + 1)));
  t.equal(await closed, 1009);
  t.same(got, [], 'nothing was delivered');
  t.match(
    errors.map((e) => e.message),
    [/max payload/i],
    'ws reported it',
  );
});

t.test('a text frame is left to ws, which hands it on as text', async (t) => {
  const { raw, got } = await pair(t);
  raw.write(Buffer.concat([maskedFrame(Buffer.from('bin')), controlFrame(0x81, Buffer.from('hi'))]));
  await until(() => got.length >= 2);
  t.same(got, [
    ['direct', 'bin'],
    ['ws', 'text hi'],
  ]);
});

t.test("on the dialler's side, the listener's unmasked frames are read directly", async (t) => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise((resolve) => wss.once('listening', resolve));
  // The listener writes once the dialler has taken over its socket and says so.
  wss.once('connection', (server: WebSocket) =>
    server.once('message', () => {
      server.send(Buffer.from('one'));
      server.send(Buffer.from('two'));
    }),
  );
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, { perMessageDeflate: false });
  t.teardown(() => {
    client.terminate();
    for (const c of wss.clients) c.terminate();
    wss.close();
  });
  const got: Array<[string, string]> = [];
  client.on('message', (data: Buffer) => got.push(['ws', data.toString()]));
  await new Promise((resolve) => client.once('open', resolve));
  t.ok(
    readFramesDirectly(client, (data) => got.push(['direct', data.toString()])),
    'takes over',
  );
  client.send(Buffer.from('go'));
  await until(() => got.length >= 2);
  t.same(got, [
    ['direct', 'one'],
    ['direct', 'two'],
  ]);
});
