/**
 * What a peer may send, checked on the bytes before msgpackr reads them (docs/security.md): only
 * what a dsmpi sender writes. Refused: every MessagePack extension except the two a sender writes
 * (the timestamp of a Date, and msgpackr's `undefined`), so no Set, RegExp, Error, typed array or
 * msgpackr record is ever built from a peer's bytes; map keys that are not strings or are
 * `__proto__`; strings that are not UTF-8; values that end too soon. Iterative: no depth limit
 * beyond memory, and no stack to overflow.
 */
import { Buffer, isUtf8 } from 'node:buffer';

/** Why the MessagePack values in `b` from `start` are not what a sender writes; undefined if they are. */
export function findWireProblem(b: Uint8Array, start = 0): string | undefined {
  let at = start;
  /** How many more values each open array or map (two per entry) holds; keys are marked by odd parity. */
  const open: Array<{ left: number; map: boolean }> = [];
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const need = (n: number): boolean => at + n <= b.length;
  while (at < b.length || open.length > 0) {
    if (at >= b.length) return 'the bytes end inside an array or map';
    const top = open[open.length - 1];
    const isKey = top?.map === true && top.left % 2 === 0;
    if (top) {
      top.left--;
      if (top.left === 0) open.pop();
    }
    const x = b[at];
    if (isKey) {
      const key = readStringAt(b, at);
      if (key === undefined) return 'a map key that is not a string';
      if (key === '__proto__') return 'a map key __proto__';
      if (key === BAD_UTF8) return 'a map key that is not UTF-8';
      at = afterString;
      continue;
    }
    if (x <= 0x7f || x >= 0xe0 || x === 0xc0 || x === 0xc2 || x === 0xc3) {
      at += 1;
    } else if ((x >= 0xa0 && x <= 0xbf) || x === 0xd9 || x === 0xda || x === 0xdb) {
      const s = readStringAt(b, at);
      if (s === undefined) return 'a string that ends too soon';
      if (s === BAD_UTF8) return 'a string that is not UTF-8';
      at = afterString;
    } else if (x >= 0x90 && x <= 0x9f) {
      at += 1;
      if ((x & 0x0f) > 0) open.push({ left: x & 0x0f, map: false });
    } else if (x >= 0x80 && x <= 0x8f) {
      at += 1;
      if ((x & 0x0f) > 0) open.push({ left: 2 * (x & 0x0f), map: true });
    } else if (x === 0xdc || x === 0xdd || x === 0xde || x === 0xdf) {
      const wide = x === 0xdd || x === 0xdf;
      if (!need(wide ? 5 : 3)) return 'an array or map header that ends too soon';
      const count = wide ? view.getUint32(at + 1) : view.getUint16(at + 1);
      at += wide ? 5 : 3;
      const map = x === 0xde || x === 0xdf;
      if (count > 0) open.push({ left: map ? 2 * count : count, map });
    } else if (x === 0xc4 || x === 0xc5 || x === 0xc6) {
      const size = x === 0xc4 ? 1 : x === 0xc5 ? 2 : 4;
      if (!need(1 + size)) return 'a byte array header that ends too soon';
      const length = size === 1 ? b[at + 1] : size === 2 ? view.getUint16(at + 1) : view.getUint32(at + 1);
      at += 1 + size + length;
      if (at > b.length) return 'a byte array that ends too soon';
    } else if (x >= 0xca && x <= 0xd3) {
      const size = [4, 8, 1, 2, 4, 8, 1, 2, 4, 8][x - 0xca];
      at += 1 + size;
      if (at > b.length) return 'a number that ends too soon';
    } else {
      // Extensions: fixext 1/2/4/8/16 (0xd4-0xd8), ext 8/16/32 (0xc7-0xc9); 0xc1 is never used.
      const problem = checkExtension(b, view, at);
      if (typeof problem === 'string') return problem;
      at = problem;
    }
  }
  return undefined;
}

/** The end of the extension at `at` if a sender writes it (a Date, or undefined), else why not. */
function checkExtension(b: Uint8Array, view: DataView, at: number): number | string {
  const x = b[at];
  let length: number;
  let typeAt: number;
  if (x >= 0xd4 && x <= 0xd8) {
    length = 1 << (x - 0xd4);
    typeAt = at + 1;
  } else if (x === 0xc7) {
    if (at + 2 > b.length) return 'an extension that ends too soon';
    length = b[at + 1];
    typeAt = at + 2;
  } else if (x === 0xc8 || x === 0xc9) {
    const size = x === 0xc8 ? 2 : 4;
    if (at + 1 + size > b.length) return 'an extension that ends too soon';
    length = size === 2 ? view.getUint16(at + 1) : view.getUint32(at + 1);
    typeAt = at + 1 + size;
  } else {
    return `the unused type byte 0x${x.toString(16)}`;
  }
  const end = typeAt + 1 + length;
  if (end > b.length) return 'an extension that ends too soon';
  const type = (b[typeAt] << 24) >> 24;
  // A Date: the timestamp extension (-1) in 4, 8 or 12 bytes.
  if (type === -1 && (length === 4 || length === 8 || length === 12)) return end;
  // undefined, as msgpackr writes it: fixext 1 of type 0 holding 0.
  if (x === 0xd4 && type === 0 && b[typeAt + 1] === 0) return end;
  return `a MessagePack extension of type ${type} (peers send no extension but Date and undefined)`;
}

const BAD_UTF8 = Symbol('not UTF-8');
/** Where the string read by the last readStringAt ends. */
let afterString = 0;

/** The string at `at` (BAD_UTF8 if its bytes are not UTF-8), or undefined if there is none whole. */
function readStringAt(b: Uint8Array, at: number): string | typeof BAD_UTF8 | undefined {
  const x = b[at];
  let start: number;
  let length: number;
  if (x >= 0xa0 && x <= 0xbf) {
    start = at + 1;
    length = x & 0x1f;
  } else if (x === 0xd9) {
    start = at + 2;
    length = b[at + 1];
  } else if (x === 0xda) {
    start = at + 3;
    length = (b[at + 1] << 8) | b[at + 2];
  } else if (x === 0xdb) {
    start = at + 5;
    length = ((b[at + 1] << 24) | (b[at + 2] << 16) | (b[at + 3] << 8) | b[at + 4]) >>> 0;
  } else {
    return undefined;
  }
  if (start > b.length || start + length > b.length) return undefined;
  afterString = start + length;
  const bytes = b.subarray(start, start + length);
  if (!isUtf8(bytes)) return BAD_UTF8;
  // Only map keys need the text; for a value, the check is enough.
  return length === 9 ? Buffer.from(bytes).toString('utf8') : '';
}
