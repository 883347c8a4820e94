import { Packr } from 'msgpackr';
import { DsError, ErrorCode } from '../errors.ts';

/**
 * Wire format. A message is one MessagePack array `[kind, context, tag, data]`; a frame is one or
 * more messages back to back. The sender's rank is not in the message: the transport knows who is
 * on the other end of an authenticated connection.
 */
export const Kind = {
  /** Point-to-point message, matched by (context, source, tag). */
  Message: 0,
  /** One-sided request served by the target's runtime (counters, windows). */
  RmaRequest: 1,
  /** Reply to a one-sided request. */
  RmaReply: 2,
} as const;

export type Envelope = [kind: number, context: number, tag: number, data: unknown];

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

export function encodeMessage(kind: number, context: number, tag: number, data: unknown): Uint8Array {
  return packr.pack([kind, context, tag, data]);
}

export function encodeValue(value: unknown): Uint8Array {
  return packr.pack(value);
}

export function decodeValue(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}

/** Joins queued messages into one frame. */
export function joinFrame(messages: Uint8Array[]): Uint8Array {
  return messages.length === 1 ? messages[0] : Buffer.concat(messages);
}

/** Splits a frame into envelopes; throws DS_ERR_DECODE on anything malformed or truncated. */
export function decodeFrame(frame: Uint8Array): Envelope[] {
  let values: unknown[];
  try {
    values = packr.unpackMultiple(frame as Buffer) as unknown[];
  } catch (err) {
    throw new DsError(ErrorCode.Decode, `malformed frame (${frame.length} bytes): ${(err as Error).message}`);
  }
  for (const v of values) {
    if (!Array.isArray(v) || v.length !== 4 || !Number.isInteger(v[0]) || !Number.isInteger(v[1]) || !Number.isInteger(v[2])) {
      throw new DsError(ErrorCode.Decode, `malformed message in frame: expected [kind, context, tag, data]`);
    }
  }
  return values as Envelope[];
}

/**
 * Reads a MessagePack integer at `pos` without decoding anything else (for tracing: the header of
 * an envelope, the stamp in front of a traced message). Returns [value, next position], or
 * undefined if the bytes there are not an integer.
 */
export function readInt(b: Uint8Array, pos: number): [number, number] | undefined {
  if (pos >= b.length) return undefined;
  const x = b[pos];
  if (x <= 0x7f) return [x, pos + 1];
  if (x >= 0xe0) return [x - 0x100, pos + 1];
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const need = (n: number): boolean => pos + 1 + n <= b.length;
  switch (x) {
    case 0xcc:
      return need(1) ? [view.getUint8(pos + 1), pos + 2] : undefined;
    case 0xcd:
      return need(2) ? [view.getUint16(pos + 1), pos + 3] : undefined;
    case 0xce:
      return need(4) ? [view.getUint32(pos + 1), pos + 5] : undefined;
    case 0xcf:
      return need(8) ? [Number(view.getBigUint64(pos + 1)), pos + 9] : undefined;
    case 0xd0:
      return need(1) ? [view.getInt8(pos + 1), pos + 2] : undefined;
    case 0xd1:
      return need(2) ? [view.getInt16(pos + 1), pos + 3] : undefined;
    case 0xd2:
      return need(4) ? [view.getInt32(pos + 1), pos + 5] : undefined;
    case 0xd3:
      return need(8) ? [Number(view.getBigInt64(pos + 1)), pos + 9] : undefined;
    default:
      return undefined;
  }
}

/** Reads a fixed array of `count` integers at `pos` (a `[a, b, c]` written by encodeValue). */
export function readIntArray(b: Uint8Array, pos: number, count: number): [number[], number] | undefined {
  if (count > 15 || b[pos] !== (0x90 | count)) return undefined;
  const out: number[] = [];
  let at = pos + 1;
  for (let i = 0; i < count; i++) {
    const r = readInt(b, at);
    if (!r) return undefined;
    out.push(r[0]);
    at = r[1];
  }
  return [out, at];
}

/** Kind, context and tag of one encoded message, read without decoding its data. */
export function readHeader(message: Uint8Array): { kind: number; context: number; tag: number } | undefined {
  if (message[0] !== 0x94) return undefined;
  const kind = readInt(message, 1);
  const context = kind && readInt(message, kind[1]);
  const tag = context && readInt(message, context[1]);
  return kind && context && tag ? { kind: kind[0], context: context[0], tag: tag[0] } : undefined;
}
