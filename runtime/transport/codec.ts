import { Buffer } from 'node:buffer';
// msgpackr without its native string reader, which decodeFrame loads when it pays (NATIVE_STRINGS_AFTER_BYTES).
import { Packr } from 'msgpackr/pack';
import { DsError, ErrorCode } from '../errors.ts';
import { Kind, type Codec, type Envelope } from '../wire.ts';
import { findWireProblem } from '../protocol/strict-wire.ts';

/**
 * The MessagePack codec of messages (the Codec of runtime/wire.ts): a message is one MessagePack
 * array `[kind, context, tag, data]`, a frame such arrays back to back.
 */

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

/**
 * msgpackr's native string reader (the optional msgpackr-extract) reads frames of many strings about
 * 4× faster than its JavaScript reader (10,000 strings of 20 characters: 1.1 ms against 4.8 ms), but
 * loading it costs 15–30 ms of CPU (it probes the C library through child_process), which every rank
 * paid at start, most of them to decode no string at all. It is loaded (import('msgpackr') sets it
 * for every Packr) once msgpackr has read this many bytes in this process.
 */
const NATIVE_STRINGS_AFTER_BYTES = 1 << 20;
let bytesUnpacked = 0;

function countUnpacked(bytes: number): void {
  if (bytesUnpacked >= NATIVE_STRINGS_AFTER_BYTES) return;
  bytesUnpacked += bytes;
  // Optional: without it msgpackr keeps its JavaScript reader.
  if (bytesUnpacked >= NATIVE_STRINGS_AFTER_BYTES) import('msgpackr').catch(() => {});
}

export function encodeMessage(kind: number, context: number, tag: number, data: unknown): Uint8Array {
  return encodePlainMessage(kind, context, tag, data) ?? pack([kind, context, tag, data]);
}

/**
 * A message of small plain data (see writePlainAt) written by hand, in the very bytes msgpackr
 * writes: setting up msgpackr's large encoder costs more than the message. Undefined for any other
 * message, which msgpackr then writes. (Exported so tests can pin which messages take this path.)
 */
export function encodePlainMessage(kind: number, context: number, tag: number, data: unknown): Uint8Array | undefined {
  if (kind >>> 0 !== kind || context >>> 0 !== context || tag >>> 0 !== tag) return undefined;
  scratch[0] = 0x94; // an array of 4
  let at = writeInt(scratch, 1, kind);
  at = writeInt(scratch, at, context);
  at = writeInt(scratch, at, tag);
  at = writePlainAt(data, at, 0);
  if (at === 0) return undefined;
  const out = Buffer.allocUnsafe(at);
  scratch.copy(out, 0, 0, at);
  return out;
}

/**
 * msgpackr's pack, with what it would not carry exactly handled: -0 (msgpackr writes it as the
 * integer 0) is written as a float64 by packExact; a BigInt outside 64 bits is DS_ERR_UNENCODABLE.
 */
function pack(value: unknown): Uint8Array {
  try {
    return hasNegativeZero(value) ? packExact(value) : packr.pack(value);
  } catch (err) {
    if (err instanceof RangeError && /BigInt|too large/i.test(err.message)) {
      throw new DsError(ErrorCode.Unencodable, `a BigInt outside 64 bits cannot be sent (MessagePack integers are at most 64-bit)`);
    }
    throw err;
  }
}

const isContainer = (v: unknown): v is object =>
  Array.isArray(v) || (typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype);

/** Whether `v` holds -0 at any depth (data deep enough to overflow this stack overflows msgpackr's too). */
function hasNegativeZero(v: unknown): boolean {
  if (typeof v === 'number') return v === 0 && 1 / v < 0;
  if (!isContainer(v)) return false;
  for (const item of Array.isArray(v) ? v : Object.values(v)) if (hasNegativeZero(item)) return true;
  return false;
}

/** -0 as a float64, which MessagePack carries exactly. */
const NEGATIVE_ZERO = Buffer.from([0xcb, 0x80, 0, 0, 0, 0, 0, 0, 0]);

/** The bytes msgpackr writes for `value`, but -0 kept: containers are written here, leaves by msgpackr. */
function packExact(value: unknown): Uint8Array {
  const parts: Uint8Array[] = [];
  const header = (small: number, wide16: number, wide32: number, count: number, fixMax: number): void => {
    if (count <= fixMax) parts.push(Buffer.from([small | count]));
    else if (count < 0x10000) parts.push(Buffer.from([wide16, count >> 8, count & 0xff]));
    else {
      const b = Buffer.allocUnsafe(5);
      b[0] = wide32;
      b.writeUInt32BE(count, 1);
      parts.push(b);
    }
  };
  const walk = (v: unknown): void => {
    if (typeof v === 'number' && v === 0 && 1 / v < 0) parts.push(NEGATIVE_ZERO);
    else if (Array.isArray(v)) {
      header(0x90, 0xdc, 0xdd, v.length, 15);
      v.forEach(walk);
    } else if (isContainer(v)) {
      const keys = Object.keys(v);
      // As msgpackr: a map16 whatever the size (the small-message reader expects it).
      header(0x80, 0xde, 0xdf, keys.length, -1);
      for (const key of keys) {
        parts.push(packr.pack(key));
        walk((v as Record<string, unknown>)[key]);
      }
    } else parts.push(packr.pack(v));
  };
  walk(value);
  return Buffer.concat(parts);
}

/** Where encodeMessage writes; a plain message is at most PLAIN_BYTES long. */
const scratch = Buffer.allocUnsafe(4096);
/** No single write of writePlainAt or writeAsciiAt, which start before this, is longer than 66 bytes. */
const PLAIN_BYTES = scratch.length - 66;

/**
 * Writes `value` at `at` as msgpackr would if it is plain data that readPlainAt reads back;
 * returns the position after it, or 0 if it is not (nor is anything written to be used).
 */
function writePlainAt(value: unknown, at: number, depth: number): number {
  if (at > PLAIN_BYTES) return 0;
  if (value === null || typeof value === 'boolean') {
    scratch[at] = value === null ? 0xc0 : value ? 0xc3 : 0xc2;
    return at + 1;
  }
  if (typeof value === 'number') {
    // -0 is no integer: it goes as a float64, which keeps its sign.
    if (intBytes(value) > 0 && (value !== 0 || 1 / value > 0)) return writeInt(scratch, at, value);
    scratch[at] = 0xcb;
    scratch.writeDoubleBE(value, at + 1);
    return at + 9;
  }
  if (typeof value === 'string') return writeAsciiAt(value, at);
  if (depth === PLAIN_DEPTH || typeof value !== 'object') return 0;
  const prototype = Object.getPrototypeOf(value);
  if (prototype === Array.prototype) {
    const items = value as unknown[];
    if (items.length > 15) return 0;
    scratch[at++] = 0x90 | items.length;
    for (let i = 0; i < items.length && at > 0; i++) at = writePlainAt(items[i], at, depth + 1);
    return at;
  }
  if (prototype === Object.prototype) {
    const object = value as Record<string, unknown>;
    const countAt = at;
    let count = 0;
    scratch[at] = 0xde; // msgpackr writes every object as a map16, whatever its size
    at += 3;
    for (const key in object) {
      if (!Object.hasOwn(object, key)) continue;
      if (++count > PLAIN_ENTRIES || key.length > 31 || key === '__proto__') return 0;
      at = writeAsciiAt(key, at);
      if (at > 0) at = writePlainAt(object[key], at, depth + 1);
      if (at === 0) return 0;
    }
    scratch.writeUInt16BE(count, countAt + 1);
    return at;
  }
  return 0;
}

/** Writes an ASCII string of up to PLAIN_STRING characters as a fixstr or str8; 0 for any other. */
function writeAsciiAt(s: string, at: number): number {
  if (s.length > PLAIN_STRING || at > PLAIN_BYTES) return 0;
  if (s.length < 32) scratch[at++] = 0xa0 | s.length;
  else {
    scratch[at++] = 0xd9;
    scratch[at++] = s.length;
  }
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return 0;
    scratch[at++] = c;
  }
  return at;
}

/** Bytes of a 32-bit integer as msgpackr writes it (useRecords: false); 0 if `v` is no such integer. */
function intBytes(v: unknown): number {
  if (typeof v !== 'number') return 0;
  if (v >>> 0 === v) return v < 0x80 ? 1 : v < 0x100 ? 2 : v < 0x10000 ? 3 : 5;
  if (v >> 0 === v) return v >= -0x20 ? 1 : v >= -0x80 ? 2 : v >= -0x8000 ? 3 : 5;
  return 0;
}

/** MessagePack's type bytes of an unsigned and a signed integer, by the size of what follows. */
const UINT_FORMAT: Record<number, number> = { 1: 0xcc, 2: 0xcd, 4: 0xce };
const INT_FORMAT: Record<number, number> = { 1: 0xd0, 2: 0xd1, 4: 0xd2 };

/** Writes a 32-bit integer (intBytes > 0) at `at` as msgpackr does; returns the position after it. */
function writeInt(out: Buffer, at: number, v: number): number {
  const bytes = intBytes(v);
  if (bytes === 1) {
    out[at] = v & 0xff; // a positive or negative fixint
    return at + 1;
  }
  if (v >= 0) {
    out[at] = UINT_FORMAT[bytes - 1];
    out.writeUIntBE(v, at + 1, bytes - 1);
  } else {
    out[at] = INT_FORMAT[bytes - 1];
    out.writeIntBE(v, at + 1, bytes - 1);
  }
  return at + bytes;
}

/** The codec every rank uses: MessagePack, with small plain messages read and written by hand. */
export const msgpackCodec: Codec = { encodeMessage, decodeFrame, payloadLength, encodeChunk, encodeChunkHead };

/** Memory of messages that are sent once and never read again by their sender (see ownedMessage). */
const owned = new WeakSet<ArrayBufferLike>();

/**
 * Memory for one message that the sender hands to the transport and never reads again: a thread
 * link may hand it over to the receiving thread instead of copying it.
 */
export function ownedMessage(bytes: number): Buffer {
  const out = Buffer.allocUnsafeSlow(bytes);
  owned.add(out.buffer);
  return out;
}

/** Whether `message` fills memory made by ownedMessage. */
export function isOwnedMessage(message: Uint8Array): boolean {
  return message.byteOffset === 0 && message.byteLength === message.buffer.byteLength && owned.has(message.buffer);
}

/**
 * Bytes `from` to `to` of `data` as the message `[Kind.Chunk, 0, id, bytes]` (flow control's chunk of
 * a held message), in memory of its own (ownedMessage): the one copy of the data on the sending side.
 */
export function encodeChunk(id: number, data: Uint8Array, from: number, to: number): Uint8Array {
  const out = ownedMessage(CHUNK_HEAD + to - from);
  writeChunkHead(out, id, to - from);
  out.set(data.subarray(from, to), CHUNK_HEAD);
  return out;
}

/** The first bytes of a chunk message of `bytes` bytes of data (see encodeChunk), which the data follows as is. */
export function encodeChunkHead(id: number, bytes: number): Uint8Array {
  const out = Buffer.allocUnsafe(CHUNK_HEAD);
  writeChunkHead(out, id, bytes);
  return out;
}

/** Bytes of a chunk message before its data. */
const CHUNK_HEAD = 13;

function writeChunkHead(out: Buffer, id: number, bytes: number): void {
  out[0] = 0x94; // an array of 4
  out[1] = Kind.Chunk;
  out[2] = 0; // context
  out[3] = 0xce; // uint32 tag: the message's id
  out.writeUInt32BE(id, 4);
  out[8] = 0xc6; // bin32
  out.writeUInt32BE(bytes, 9);
}

/** Joins queued messages into one frame. */
export function joinFrame(messages: Uint8Array[]): Uint8Array {
  return messages.length === 1 ? messages[0] : Buffer.concat(messages);
}

/**
 * Splits a frame into envelopes; throws DS_ERR_DECODE on anything malformed or truncated. With
 * `sizes`, the encoded length of each envelope is appended to it.
 */
export function decodeFrame(frame: Uint8Array, sizes?: number[]): Envelope[] {
  const simple = decodePlainFrame(frame, sizes);
  if (simple) return simple;
  if (sizes) sizes.length = 0;
  const problem = findWireProblem(frame);
  if (problem) throw new DsError(ErrorCode.Decode, `malformed frame (${frame.length} bytes): ${problem}`);
  const values: unknown[] = [];
  countUnpacked(frame.length);
  try {
    packr.unpackMultiple(frame as Buffer, (value: unknown, start?: number, end?: number) => {
      values.push(value);
      sizes?.push((end ?? 0) - (start ?? 0));
    });
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
 * A frame of small plain messages, read without msgpackr; undefined for any other frame, which
 * msgpackr then reads. A rank woken for one message would otherwise run msgpackr's large decoder
 * with cold caches: about 7 µs per small object with 16 ranks on 2 cores, against 1 µs here.
 * (Exported so tests can pin which frames take this path.)
 */
export function decodePlainFrame(b: Uint8Array, sizes?: number[]): Envelope[] | undefined {
  const out: Envelope[] = [];
  let at = 0;
  while (at < b.length) {
    if (b[at] !== 0x94) return undefined;
    const kind = readIntAt(b, at + 1);
    const context = readIntAt(b, afterInt);
    const tag = readIntAt(b, afterInt);
    if (Number.isNaN(kind) || Number.isNaN(context) || Number.isNaN(tag)) return undefined;
    const data = readPlainAt(b, afterInt, 0);
    if (data === NOT_PLAIN) return undefined;
    sizes?.push(afterValue - at);
    at = afterValue;
    out.push([kind, context, tag, data]);
  }
  return out.length > 0 ? out : undefined;
}

/** What readPlainAt returns for bytes it leaves to msgpackr. */
const NOT_PLAIN = Symbol('not plain');
const PLAIN_DEPTH = 4;
const PLAIN_STRING = 64;
const PLAIN_ENTRIES = 16;
/** Where the value read by the last readPlainAt ends. */
let afterValue = 0;
const float64 = new DataView(new ArrayBuffer(8));

/**
 * The value at `pos` if it is plain and small, read exactly as msgpackr reads it: null, a boolean,
 * a float64, an integer of up to 32 bits (msgpackr reads 64-bit ones as BigInt), an ASCII string of
 * up to PLAIN_STRING bytes, or an array of up to 15 or a string-keyed map of up to PLAIN_ENTRIES such
 * values, nested up to PLAIN_DEPTH deep. NOT_PLAIN for anything else, or for bytes that end too soon.
 */
function readPlainAt(b: Uint8Array, pos: number, depth: number): unknown {
  if (pos >= b.length) return NOT_PLAIN;
  const x = b[pos];
  if (x <= 0x7f || x >= 0xe0 || (x >= 0xcc && x <= 0xd2 && x !== 0xcf)) {
    const v = readIntAt(b, pos);
    afterValue = afterInt;
    return Number.isNaN(v) ? NOT_PLAIN : v;
  }
  if (x === 0xc0 || x === 0xc2 || x === 0xc3) {
    afterValue = pos + 1;
    return x === 0xc0 ? null : x === 0xc3;
  }
  if (x === 0xcb) {
    if (pos + 9 > b.length) return NOT_PLAIN;
    for (let i = 0; i < 8; i++) float64.setUint8(i, b[pos + 1 + i]);
    afterValue = pos + 9;
    return float64.getFloat64(0);
  }
  if ((x >= 0xa0 && x <= 0xbf) || x === 0xd9) return readAsciiAt(b, pos);
  if (depth === PLAIN_DEPTH) return NOT_PLAIN;
  if (x >= 0x90 && x <= 0x9f) {
    const items: unknown[] = [];
    afterValue = pos + 1;
    for (let i = 0; i < (x & 0x0f); i++) {
      const item = readPlainAt(b, afterValue, depth + 1);
      if (item === NOT_PLAIN) return NOT_PLAIN;
      items.push(item);
    }
    return items;
  }
  // msgpackr writes every object as a map16, whatever its size.
  if ((x >= 0x80 && x <= 0x8f) || x === 0xde) {
    if (x === 0xde && pos + 3 > b.length) return NOT_PLAIN;
    const count = x === 0xde ? (b[pos + 1] << 8) | b[pos + 2] : x & 0x0f;
    if (count > PLAIN_ENTRIES) return NOT_PLAIN;
    const object: Record<string, unknown> = {};
    afterValue = x === 0xde ? pos + 3 : pos + 1;
    for (let i = 0; i < count; i++) {
      const key = b[afterValue] >= 0xa0 && b[afterValue] <= 0xbf ? readAsciiAt(b, afterValue) : NOT_PLAIN;
      if (key === NOT_PLAIN || key === '__proto__') return NOT_PLAIN;
      const value = readPlainAt(b, afterValue, depth + 1);
      if (value === NOT_PLAIN) return NOT_PLAIN;
      object[key as string] = value;
    }
    return object;
  }
  return NOT_PLAIN;
}

/** A fixstr or str8 of ASCII bytes at `pos` (see readPlainAt). */
function readAsciiAt(b: Uint8Array, pos: number): string | typeof NOT_PLAIN {
  const start = b[pos] === 0xd9 ? pos + 2 : pos + 1;
  const length = b[pos] === 0xd9 ? b[pos + 1] : b[pos] & 0x1f;
  if (start > b.length || length > PLAIN_STRING || start + length > b.length) return NOT_PLAIN;
  let hash = length;
  for (let i = start; i < start + length; i++) {
    const c = b[i];
    if (c > 0x7f) return NOT_PLAIN;
    hash = (hash * 31 + c) | 0;
  }
  afterValue = start + length;
  if (length > RECENT_STRING) return asciiString(b, start, length);
  const slot = hash & (recentStrings.length - 1);
  const recent = recentStrings[slot];
  if (recent !== undefined && sameAscii(recent, b, start, length)) return recent;
  const s = asciiString(b, start, length);
  recentStrings[slot] = s;
  return s;
}

/**
 * Short strings read lately, by a hash of their bytes: the keys of a program's messages, and many of
 * their short values, come back in every message. Handing out the same string again saves building
 * it, and V8, which must look a property name up in its table of names before storing it, finds it
 * there at once (a string just built is looked up by its characters every time).
 */
const recentStrings = new Array<string | undefined>(256);
/** Strings longer than this are built every time. */
const RECENT_STRING = 24;

function sameAscii(s: string, b: Uint8Array, start: number, length: number): boolean {
  if (s.length !== length) return false;
  for (let i = 0; i < length; i++) if (s.charCodeAt(i) !== b[start + i]) return false;
  return true;
}

function asciiString(b: Uint8Array, start: number, length: number): string {
  let s = '';
  for (let i = start; i < start + length; i++) s += String.fromCharCode(b[i]);
  return s;
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
      // A 64-bit integer is read only if it is exact as a number; else NaN (not an integer here).
      const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
      const big = x === 0xcf ? view.getBigUint64(p) : view.getBigInt64(p);
      const n = Number(big);
      return Number.isSafeInteger(n) && BigInt(n) === big ? n : NaN;
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

/**
 * Bytes of the payload of one encoded message: its data without the envelope (kind, context, tag)
 * and, for a byte array or a string, without the MessagePack header of its length.
 */
export function payloadLength(message: Uint8Array): number {
  let at = 1;
  for (let i = 0; i < 3; i++) {
    if (Number.isNaN(readIntAt(message, at))) return message.length;
    at = afterInt;
  }
  const type = message[at];
  const header = DATA_HEADER[type] ?? (type >= 0xa0 && type <= 0xbf ? 1 : 0);
  return message.length - at - header;
}

/** Length of the header of a MessagePack bin, str and ext value, by its type byte. */
const DATA_HEADER: Record<number, number> = { 0xc4: 2, 0xc5: 3, 0xc6: 5, 0xd9: 2, 0xda: 3, 0xdb: 5, 0xc7: 3, 0xc8: 4, 0xc9: 6 };

/** Kind, context and tag of one encoded message, read without decoding its data. */
export function readHeader(message: Uint8Array): { kind: number; context: number; tag: number } | undefined {
  if (message[0] !== 0x94) return undefined;
  const kind = readInt(message, 1);
  const context = kind && readInt(message, kind[1]);
  const tag = context && readInt(message, context[1]);
  return kind && context && tag ? { kind: kind[0], context: context[0], tag: tag[0] } : undefined;
}
