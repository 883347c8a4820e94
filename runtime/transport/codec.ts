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
  // A message whose data is null, a boolean or a 32-bit integer (barriers, acknowledgements, counts)
  // is written here, in the very bytes msgpackr writes: a few bytes do not need the encoder set up.
  const dataBytes = data === null || typeof data === 'boolean' ? 1 : intBytes(data);
  if (dataBytes > 0 && kind >>> 0 === kind && context >>> 0 === context && tag >>> 0 === tag) {
    const out = Buffer.allocUnsafe(1 + intBytes(kind) + intBytes(context) + intBytes(tag) + dataBytes);
    out[0] = 0x94; // an array of 4
    let at = writeInt(out, 1, kind);
    at = writeInt(out, at, context);
    at = writeInt(out, at, tag);
    if (data === null) out[at] = 0xc0;
    else if (typeof data === 'boolean') out[at] = data ? 0xc3 : 0xc2;
    else writeInt(out, at, data as number);
    return out;
  }
  return packr.pack([kind, context, tag, data]);
}

/** Bytes of a 32-bit integer as msgpackr writes it (useRecords: false); 0 if `v` is no such integer. */
function intBytes(v: unknown): number {
  if (typeof v !== 'number') return 0;
  if (v >>> 0 === v) return v < 0x80 ? 1 : v < 0x100 ? 2 : v < 0x10000 ? 3 : 5;
  if (v >> 0 === v) return v >= -0x20 ? 1 : v >= -0x80 ? 2 : v >= -0x8000 ? 3 : 5;
  return 0;
}

/** Writes a 32-bit integer at `at` as msgpackr does; returns the position after it. */
function writeInt(out: Buffer, at: number, v: number): number {
  if (v >>> 0 === v) {
    if (v < 0x80) {
      out[at] = v;
      return at + 1;
    }
    if (v < 0x100) {
      out[at] = 0xcc;
      out[at + 1] = v;
      return at + 2;
    }
    if (v < 0x10000) {
      out[at] = 0xcd;
      out.writeUInt16BE(v, at + 1);
      return at + 3;
    }
    out[at] = 0xce;
    out.writeUInt32BE(v, at + 1);
    return at + 5;
  }
  if (v >= -0x20) {
    out[at] = 0x100 + v;
    return at + 1;
  }
  if (v >= -0x80) {
    out[at] = 0xd0;
    out.writeInt8(v, at + 1);
    return at + 2;
  }
  if (v >= -0x8000) {
    out[at] = 0xd1;
    out.writeInt16BE(v, at + 1);
    return at + 3;
  }
  out[at] = 0xd2;
  out.writeInt32BE(v, at + 1);
  return at + 5;
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
  const simple = decodeSimpleFrame(frame);
  if (simple) return simple;
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
 * A frame whose messages all carry null, a boolean or an integer (what encodeMessage writes
 * itself), read without msgpackr; undefined for any other frame, which msgpackr then reads.
 */
function decodeSimpleFrame(b: Uint8Array): Envelope[] | undefined {
  const out: Envelope[] = [];
  let at = 0;
  while (at < b.length) {
    if (b[at] !== 0x94) return undefined;
    const kind = readIntAt(b, at + 1);
    const context = readIntAt(b, afterInt);
    const tag = readIntAt(b, afterInt);
    if (Number.isNaN(kind) || Number.isNaN(context) || Number.isNaN(tag) || afterInt >= b.length) return undefined;
    const x = b[afterInt];
    let data: number | boolean | null;
    if (x === 0xc0 || x === 0xc2 || x === 0xc3) {
      at = afterInt + 1;
      data = x === 0xc0 ? null : x === 0xc3;
    } else {
      data = readIntAt(b, afterInt);
      if (Number.isNaN(data)) return undefined;
      at = afterInt;
    }
    out.push([kind, context, tag, data]);
  }
  return out.length > 0 ? out : undefined;
}

/** Where the integer read by the last readIntAt ends. */
let afterInt = 0;

/**
 * The MessagePack integer at `pos`, as msgpackr reads it, and its end in `afterInt`; NaN if the
 * bytes there are not a whole integer. No allocation: it runs for every message of a small frame.
 */
function readIntAt(b: Uint8Array, pos: number): number {
  if (pos >= b.length) return NaN;
  const x = b[pos];
  if (x <= 0x7f || x >= 0xe0) {
    afterInt = pos + 1;
    return x <= 0x7f ? x : x - 0x100;
  }
  const size =
    x === 0xcc || x === 0xd0 ? 1 : x === 0xcd || x === 0xd1 ? 2 : x === 0xce || x === 0xd2 ? 4 : x === 0xcf || x === 0xd3 ? 8 : 0;
  if (size === 0 || pos + 1 + size > b.length) return NaN;
  afterInt = pos + 1 + size;
  const p = pos + 1;
  switch (x) {
    case 0xcc:
      return b[p];
    case 0xcd:
      return (b[p] << 8) | b[p + 1];
    case 0xce:
      return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
    case 0xd0:
      return (b[p] << 24) >> 24;
    case 0xd1:
      return (((b[p] << 8) | b[p + 1]) << 16) >> 16;
    case 0xd2:
      return (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
    default: {
      const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
      return x === 0xcf ? Number(view.getBigUint64(p)) : Number(view.getBigInt64(p));
    }
  }
}

/**
 * Reads a MessagePack integer at `pos` without decoding anything else (for tracing: the header of
 * an envelope, the stamp in front of a traced message). Returns [value, next position], or
 * undefined if the bytes there are not an integer.
 */
export function readInt(b: Uint8Array, pos: number): [number, number] | undefined {
  const value = readIntAt(b, pos);
  return Number.isNaN(value) ? undefined : [value, afterInt];
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
