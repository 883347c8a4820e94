/**
 * A TCP proxy on 127.0.0.1 that records every byte both ways, as a LAN attacker on the path would,
 * and the tools to replay what it recorded.
 */
import { Buffer } from 'node:buffer';
import { connect, createServer, type Socket } from 'node:net';

export interface Recording {
  /** What the dialler sent, chunk by chunk. */
  toServer: Buffer[];
  /** What the server answered. */
  toClient: Buffer[];
}

export interface RecordingProxy {
  port: number;
  /** One recording per connection, in the order they were opened. */
  recordings: Recording[];
  close(): Promise<void>;
}

export async function recordingProxy(targetPort: number): Promise<RecordingProxy> {
  const recordings: Recording[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const recording: Recording = { toServer: [], toClient: [] };
    recordings.push(recording);
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.on('data', (d) => {
      recording.toServer.push(Buffer.from(d));
      upstream.write(d);
    });
    upstream.on('data', (d) => {
      recording.toClient.push(Buffer.from(d));
      client.write(d);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    recordings,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * Sends `chunks` verbatim to 127.0.0.1:port, as recorded, and resolves with what came back once the
 * server closes the connection (or after `limitMs`, when it is cut by this side).
 */
export function replay(port: number, chunks: Buffer[], limitMs = 15_000): Promise<{ answer: Buffer; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => {
      for (const c of chunks) socket.write(c);
    });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ answer: Buffer.concat(parts), closedByServer: false });
    }, limitMs);
    socket.on('data', (d) => parts.push(Buffer.from(d)));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ answer: Buffer.concat(parts), closedByServer: true });
    });
  });
}

/**
 * The payloads of the WebSocket frames in recorded bytes, unmasked (a dialler masks its frames with
 * a key sent in the clear, which hides nothing from an eavesdropper): the HTTP upgrade is skipped.
 */
export function framePayloads(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = bytes.indexOf('\r\n\r\n');
  if (at < 0) return out;
  at += 4;
  while (at + 2 <= bytes.length) {
    const masked = (bytes[at + 1] & 0x80) !== 0;
    let length = bytes[at + 1] & 0x7f;
    let head = 2;
    if (length === 126) {
      length = bytes.readUInt16BE(at + 2);
      head = 4;
    } else if (length === 127) {
      length = Number(bytes.readBigUInt64BE(at + 2));
      head = 10;
    }
    const mask = masked ? bytes.subarray(at + head, at + head + 4) : undefined;
    const start = at + head + (masked ? 4 : 0);
    if (start + length > bytes.length) break;
    const payload = Buffer.from(bytes.subarray(start, start + length));
    if (mask) for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
    out.push(payload);
    at = start + length;
  }
  return out;
}
