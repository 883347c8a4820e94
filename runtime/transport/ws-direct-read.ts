import type { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';

/** What this file relies on of ws 8's WebSocket and Receiver (checked before use). */
interface WsInternals {
  _socket: Socket;
  _isServer: boolean;
  _receiver: {
    _state: number;
    _bufferedBytes: number;
    _fragmented: number;
    _errored: boolean;
    _maxPayload: number;
  };
}

/** The receiver's state between frames (ws's GET_INFO). */
const BETWEEN_FRAMES = 0;

/**
 * Reads the binary frames that ranks send each other straight off the link's TCP socket, in place
 * of ws's receiver, and hands each frame's payload to `deliver` (a view of the bytes read, not a
 * copy). ws's receiver is a writable stream that parses every read again, in several calls and
 * event emissions; with 16 ranks on 2 cores each one of them is run with cold caches at every
 * wake-up. Only whole frames as ws.ts's writeBinaryFrame writes them (FIN, binary, no extension bits,
 * masked with a zero key from a dialler, unmasked from a listener, within maxPayload), found at the
 * start of a read or after another such frame while ws's receiver holds nothing, are read here;
 * the rest of the read goes to ws's receiver as before, which reads control frames, fragments,
 * masked payloads and bad frames, and reports their errors as it always did: `deliver` is the
 * socket's 'message' listener, so frames get to it in the order they came, by either way.
 * Relies on ws 8's `_socket`, `_isServer` and `_receiver` fields and its socket 'data' listener;
 * with any other shape it leaves ws alone. Returns whether it took over.
 */
export function readFramesDirectly(ws: WebSocket, deliver: (payload: Buffer) => void): boolean {
  const internals = ws as unknown as Partial<WsInternals>;
  const socket = internals._socket;
  const receiver = internals._receiver;
  if (!socket || !receiver || typeof receiver._state !== 'number' || typeof receiver._bufferedBytes !== 'number') return false;
  const listeners = socket.listeners('data');
  if (listeners.length !== 1) return false;
  const wsOnData = listeners[0] as (this: Socket, chunk: Buffer) => void;
  // Frames from a dialler carry the mask bit (and a zero key); from a listener, none.
  const maskBit = internals._isServer ? 0x80 : 0;
  const maxPayload = receiver._maxPayload > 0 ? receiver._maxPayload : Number.MAX_SAFE_INTEGER;
  // This reader's own: a frame's bounds never leak to another link's reader.
  const frame: FrameBounds = { payloadStart: 0, end: 0 };
  const onData = function (this: Socket, chunk: Buffer): void {
    let at = 0;
    const idle = receiver._state === BETWEEN_FRAMES && receiver._bufferedBytes === 0 && receiver._fragmented === 0 && !receiver._errored;
    if (idle) {
      while (at < chunk.length && ws.readyState === WebSocket.OPEN) {
        if (!findDirectFrame(chunk, at, maskBit, maxPayload, frame)) break;
        deliver(chunk.subarray(frame.payloadStart, frame.end));
        at = frame.end;
      }
    }
    if (at < chunk.length) wsOnData.call(this, at === 0 ? chunk : chunk.subarray(at));
  };
  socket.removeListener('data', wsOnData);
  socket.on('data', onData);
  return true;
}

/** Where a frame's payload starts and where the frame ends, in the chunk read. */
interface FrameBounds {
  payloadStart: number;
  end: number;
}

/**
 * True if the frame at `at` is whole in `b` and one that readFramesDirectly reads, with its bounds
 * put in `out` (an object the caller keeps, so finding a frame allocates nothing); false for
 * anything else, left to ws's receiver.
 */
function findDirectFrame(b: Buffer, at: number, maskBit: number, maxPayload: number, out: FrameBounds): boolean {
  if (at + 2 > b.length || b[at] !== 0x82 || (b[at + 1] & 0x80) !== maskBit) return false;
  let length = b[at + 1] & 0x7f;
  let p = at + 2;
  if (length === 126) {
    if (p + 2 > b.length) return false;
    length = b.readUInt16BE(p);
    p += 2;
  } else if (length === 127) {
    if (p + 8 > b.length || b.readUInt32BE(p) !== 0) return false;
    length = b.readUInt32BE(p + 4);
    p += 8;
  }
  if (maskBit !== 0) {
    if (p + 4 > b.length || b[p] !== 0 || b[p + 1] !== 0 || b[p + 2] !== 0 || b[p + 3] !== 0) return false;
    p += 4;
  }
  if (length > maxPayload || p + length > b.length) return false;
  out.payloadStart = p;
  out.end = p + length;
  return true;
}
