// The message codec called directly, with exact expectations: which messages take the hand-written
// small-message path (and that it writes and reads what msgpackr does), -0 kept on every path,
// malformed frames refused with DS_ERR_DECODE, chunk messages, and the header readers of tracing.
import { Buffer } from 'node:buffer';
import { isDeepStrictEqual } from 'node:util';
import t, { type Test } from 'tap';
import { Packr } from 'msgpackr';
import {
  decodeFrame,
  decodePlainFrame,
  encodeChunk,
  encodeChunkHead,
  encodeMessage,
  encodePlainMessage,
  isOwnedMessage,
  joinFrame,
  msgpackCodec,
  ownedMessage,
  payloadLength,
  readHeader,
  readInt,
  readIntArray,
} from '../../runtime/transport/codec.ts';
import { Kind } from '../../runtime/wire.ts';

const packr = new Packr({ useRecords: false, mapsAsObjects: true });
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const ascii = (n: number, c = 'x'): string => c.repeat(n);
const nested = (levels: number, leaf: unknown): unknown => (levels === 0 ? leaf : [nested(levels - 1, leaf)]);
const objectOf = (keys: number, keyLength = 1): Record<string, number> =>
  Object.fromEntries(Array.from({ length: keys }, (_, i) => [String.fromCharCode(97 + i).repeat(keyLength), i]));

/**
 * The message [0, 1, 2, data] is written in msgpackr's bytes and read back as msgpackr reads it;
 * by hand or not as `plain` says (`read` for the reading side, where it differs).
 */
function disagreements(data: unknown, plain: boolean, name: string, read = plain): string[] {
  const reference = packr.pack([0, 1, 2, data]);
  const ours = encodeMessage(0, 1, 2, data);
  const problems: string[] = [];
  if (hex(ours) !== hex(reference)) problems.push(`${name}: not msgpackr's bytes`);
  if ((encodePlainMessage(0, 1, 2, data) !== undefined) !== plain) problems.push(`${name}: ${plain ? 'not ' : ''}written by hand`);
  if ((decodePlainFrame(ours) !== undefined) !== read) problems.push(`${name}: ${read ? 'not ' : ''}read by hand`);
  if (!isDeepStrictEqual(decodeFrame(ours), [packr.unpack(reference)])) problems.push(`${name}: not read back as msgpackr reads it`);
  return problems;
}

function agrees(t: Test, data: unknown, plain: boolean, name: string, read = plain): void {
  t.same(disagreements(data, plain, name, read), [], name);
}

t.test('small plain data is written and read by hand, exactly as msgpackr does', async (t) => {
  const cases: Array<[string, unknown]> = [
    ['null', null],
    ['true', true],
    ['false', false],
    ['a float', 1.5],
    ['NaN', NaN],
    ['-Infinity', -Infinity],
    ['2^53', 2 ** 53],
    ['an empty string', ''],
    ['31 characters', ascii(31)],
    ['32 characters (str8)', ascii(32)],
    ['64 characters', ascii(64)],
    ['DEL, the last ASCII character', '\x7f'],
    ['an empty array', []],
    ['15 items', Array.from({ length: 15 }, (_, i) => i)],
    ['an empty object', {}],
    ['16 entries', objectOf(16)],
    ['a 31-character key', { [ascii(31, 'k')]: 1 }],
    ['four levels of arrays', nested(4, 7)],
    ['four levels of objects', { a: { b: { c: { d: 'leaf' } } } }],
    ['mixed', { list: [1, -2, 'three', null, { four: 4.5 }], flag: false }],
  ];
  for (const [name, data] of cases) agrees(t, data, true, name);
});

t.test('short strings the reader has read before come back exactly, however their bytes collide', async (t) => {
  // Many more distinct strings than the reader keeps, of few lengths, so many share a length and a
  // place among those kept: each must still be read as itself, as key and as value.
  let seed = 7;
  const next = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const words = Array.from({ length: 3000 }, () => Array.from({ length: 1 + next(6) }, () => letters[next(26)]).join(''));
  words.push(ascii(24, 'q'), ascii(25, 'q'), ascii(64, 'r'));
  let wrong = 0;
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < words.length; i++) {
      const key = words[(i * 7 + round) % words.length];
      const value = words[(i * 13 + round * 5) % words.length];
      const frame = encodePlainMessage(0, 1, 2, { [key]: value, [`${key}!`]: [value, key] });
      const read = decodePlainFrame(frame!)?.[0][3];
      if (!isDeepStrictEqual(read, { [key]: value, [`${key}!`]: [value, key] })) wrong++;
    }
  }
  t.equal(wrong, 0, 'every string read as written');
});

t.test('integers of every width, as header fields and as data', async (t) => {
  const ints = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 2 ** 32 - 1, -1, -0x20, -0x21, -0x80, -0x81, -0x8000, -0x8001, -(2 ** 31)];
  const problems: string[] = [];
  for (const v of ints) {
    problems.push(...disagreements(v, true, `data ${v}`));
    if (v < 0) continue;
    for (const header of [
      [v, 0, 0],
      [0, v, 0],
      [0, 0, v],
    ] as Array<[number, number, number]>) {
      const ours = encodePlainMessage(...header, null);
      if ((ours && hex(ours)) !== hex(packr.pack([...header, null]))) problems.push(`header ${header.join(',')}: not written by hand`);
      if (!isDeepStrictEqual(decodePlainFrame(packr.pack([...header, null])), [[...header, null]])) {
        problems.push(`header ${header.join(',')}: not read by hand`);
      }
    }
  }
  t.same(problems, []);
  agrees(t, 2 ** 32, true, 'data 2^32 (a float64, as msgpackr writes it)');
  agrees(t, -(2 ** 31) - 1, true, 'data -2^31 - 1 (a float64, as msgpackr writes it)');
});

t.test('headers that are no 32-bit unsigned integers go to msgpackr', async (t) => {
  for (const header of [
    [-1, 0, 0],
    [0, 1.5, 0],
    [0, 0, 2 ** 32],
    [0, 0, -1],
  ] as Array<[number, number, number]>) {
    t.equal(encodePlainMessage(...header, 'x'), undefined, `${header.join(',')}: not by hand`);
    t.equal(hex(encodeMessage(...header, 'x')), hex(packr.pack([...header, 'x'])), `${header.join(',')}: msgpackr's bytes`);
  }
  t.throws(() => decodeFrame(encodeMessage(0, 1.5, 0, 'x')), { code: 'DS_ERR_DECODE', message: /expected \[kind, context, tag, data\]/ });
  t.same(decodeFrame(encodeMessage(0, 0, 2 ** 32, 'x')), [[0, 0, 2 ** 32, 'x']], 'a 64-bit tag is read exactly');
});

t.test('what is not small plain data goes to msgpackr, both ways', async (t) => {
  const cases: Array<[string, unknown]> = [
    ['undefined', undefined],
    ['a BigInt', 5n],
    ['a byte array', new Uint8Array([1, 2])],
    ['a Date', new Date(5)],
    ['65 characters', ascii(65)],
    ['a character past ASCII', 'é'],
    ['ASCII then a character past it', 'abc\u0080'],
    ['16 items', Array.from({ length: 16 }, (_, i) => i)],
    ['17 entries', objectOf(17)],
    ['a 32-character key', { [ascii(32, 'k')]: 1 }],
    ['a key past ASCII', { é: 1 }],
    ['a key of 65 characters', { [ascii(65, 'k')]: 1 }],
    ['a value past the rules inside an object', { a: 1, b: 'é' }],
    ['a value past the rules, then more entries', { b: 'é', a: 1, c: [2] }],
    ['null beside what msgpackr writes', [null, { n: null }, 'é']],
    ['a value past the rules inside an array', [1, 'é']],
    ['five levels of arrays', nested(5, 7)],
    ['five levels of objects', { a: { b: { c: { d: { e: 1 } } } } }],
  ];
  for (const [name, data] of cases) agrees(t, data, false, name);
  // Written by msgpackr as plain maps, which the hand-written reader then reads.
  agrees(t, Object.assign(Object.create(null) as object, { a: 1 }), false, 'an object without a prototype', true);
  agrees(
    t,
    new (class Point {
      x = 1;
    })(),
    false,
    'a class instance',
    true,
  );
});

t.test('the own key __proto__ is never written by hand and never read', async (t) => {
  const data = JSON.parse('{"a":1,"__proto__":2}') as Record<string, number>;
  t.equal(encodePlainMessage(0, 1, 2, data), undefined);
  t.throws(() => decodeFrame(encodeMessage(0, 1, 2, data)), { code: 'DS_ERR_DECODE', message: /__proto__/ });
});

t.test('near the end of its scratch memory the hand-written path writes msgpackr bytes or nothing', async (t) => {
  // Arrays of 15 strings of 64 characters (66 bytes each), then a string of every length: the
  // message ends at every byte around the 4096 of the scratch memory.
  let byHand = 0;
  let toMsgpackr = 0;
  const wrong: string[] = [];
  const list = Array.from({ length: 15 }, () => ascii(64));
  for (let lists = 3; lists <= 5; lists++) {
    for (let last = 0; last <= 64; last++) {
      const data = [...Array.from({ length: lists }, () => list), ascii(last)];
      const ours = encodePlainMessage(0, 1, 2, data);
      if (ours === undefined) toMsgpackr++;
      else {
        byHand++;
        if (!Buffer.from(ours).equals(packr.pack([0, 1, 2, data]))) wrong.push(`${lists} lists and ${last} characters`);
      }
    }
  }
  t.same(wrong, [], "what is written by hand is msgpackr's bytes");
  t.ok(byHand > 0 && toMsgpackr > 0, `${byHand} by hand, ${toMsgpackr} by msgpackr`);
});

/** Bytes of `data` as msgpackr writes it, with every -0 written as a float64 (as 0.5 is). */
function withNegativeZero(data: unknown): string {
  const marked = JSON.parse(JSON.stringify(data, (_k, v: unknown) => (Object.is(v, -0) ? 0.5 : v))) as unknown;
  return hex(packr.pack([0, 1, 2, marked])).replaceAll('cb3fe0000000000000', 'cb8000000000000000');
}

t.test('-0 arrives as -0 on every path, in the bytes msgpackr writes for a float64', async (t) => {
  const many = (n: number): number[] => Array.from({ length: n }, (_, i) => (i === n - 1 ? -0 : i));
  const cases: Array<[string, unknown]> = [
    ['alone', -0],
    ['in a small array', [1, -0]],
    ['after 15 items', many(16)],
    ['after 16 items', many(17)],
    ['in an object', { a: -0 }],
    ['in an object of 17 entries', { ...objectOf(16), z: -0 }],
    ['in an empty-keyed neighbourhood', [{}, [], { a: [-0, 'x'.repeat(70)] }]],
    ['64 levels deep', nested(64, -0)],
    ["100 levels deep, on msgpackr's path", [nested(100, -0), 'é']],
    ["with no +0 beside it, on msgpackr's path", [-0, 'é']],
    ['beside negative numbers, which stay what they are', [-5, -0, -1.5, { n: -7, m: -0.25 }, 'é']],
    ["in 15 items (a fixarray) on msgpackr's path", [...many(14), 'é']],
    ['in 16 items (an array16)', many(16)],
  ];
  for (const [name, data] of cases) {
    const bytes = encodeMessage(0, 1, 2, data);
    t.equal(hex(bytes), withNegativeZero(data), `${name}: the bytes`);
    t.ok(isDeepStrictEqual(decodeFrame(bytes)[0][3], data), `${name}: -0 read back`);
    t.ok(isDeepStrictEqual(packr.unpack(bytes), [0, 1, 2, data]), `${name}: msgpackr reads -0 too`);
  }
});

t.test('-0 beside data that is no plain object (a Date, bytes, a class instance): each written as msgpackr writes it', async (t) => {
  const others = [
    new Date(5),
    new Uint8Array([1, 2]),
    new (class Point {
      x = 1;
    })(),
  ];
  // A header without a 0 either: only the -0 itself tells that the message needs care.
  const reference = hex(packr.pack([1, 2, 3, [0.5, ...others]])).replace('cb3fe0000000000000', 'cb8000000000000000');
  const ours = encodeMessage(1, 2, 3, [-0, ...others]);
  t.equal(hex(ours), reference);
  const [back] = decodeFrame(ours);
  t.ok(Object.is((back[3] as unknown[])[0], -0), '-0 read back');
  t.same((back[3] as unknown[]).slice(1), packr.unpack(packr.pack(others)), 'the rest read back as msgpackr reads it');
});

t.test('-0 among 65,536 items: an array32 header, as msgpackr writes one', async (t) => {
  const items = Array.from({ length: 0x10000 }, (_, i) => i & 0x7f);
  items[0xffff] = 0.5; // a float64 in msgpackr's bytes, where -0 goes
  const reference = Buffer.from(packr.pack([0, 1, 2, items]));
  items[0xffff] = -0;
  const ours = Buffer.from(encodeMessage(0, 1, 2, items));
  t.equal(hex(ours.subarray(4, 9)), 'dd00010000', 'an array32 of 65,536 items');
  t.ok(
    ours.length === reference.length && ours.subarray(0, -8).equals(reference.subarray(0, -8)),
    "msgpackr's bytes up to the last float64",
  );
  t.equal(hex(ours.subarray(-9)), 'cb8000000000000000', '-0 last');
  const back = decodeFrame(ours)[0][3] as number[];
  t.ok(back.length === 0x10000 && Object.is(back[0xffff], -0) && back[0x7f] === 0x7f, 'read back whole, -0 last');
});

t.test('plain messages of every length across the end of the scratch memory: msgpackr bytes, by hand or not', async (t) => {
  // Four arrays of 15 strings of 64 characters (3,969 bytes with the envelope), then an array of a
  // string of 0 to 8 characters and k float64s: the message ends at every byte from 3,971 to 4,105.
  const list = Array.from({ length: 15 }, () => ascii(64));
  const wrong: string[] = [];
  let longestByHand = 0;
  let shortestToMsgpackr = Infinity;
  for (let k = 0; k <= 14; k++) {
    for (let length = 0; length <= 8; length++) {
      const data = [list, list, list, list, [ascii(length), ...Array.from({ length: k }, (_, i) => i + 0.5)]];
      const reference = Buffer.from(packr.pack([0, 1, 2, data]));
      let ours: Uint8Array | undefined;
      try {
        ours = encodePlainMessage(0, 1, 2, data);
      } catch (err) {
        wrong.push(`${reference.length} bytes: ${String(err)}`);
        continue;
      }
      if (ours === undefined) shortestToMsgpackr = Math.min(shortestToMsgpackr, reference.length);
      else {
        longestByHand = Math.max(longestByHand, ours.length);
        if (!reference.equals(ours)) wrong.push(`${reference.length} bytes: not msgpackr's`);
      }
    }
  }
  t.same(wrong, []);
  t.ok(longestByHand > 4000 && longestByHand <= 4096, `the longest written by hand: ${longestByHand} bytes`);
  t.ok(shortestToMsgpackr <= 4096, `the shortest left to msgpackr: ${shortestToMsgpackr} bytes`);
});

t.test('only own keys are sent, as msgpackr sends them, even with Object.prototype extended', async (t) => {
  const proto = Object.prototype as Record<string, unknown>;
  Object.defineProperty(proto, 'inherited', { value: 1, enumerable: true, configurable: true });
  try {
    agrees(t, { a: 1 }, true, 'a plain object');
    t.same(decodeFrame(encodeMessage(0, 1, 2, { a: 1 }))[0][3], { a: 1 }, 'no inherited key arrives');
  } finally {
    delete proto.inherited;
  }
});

t.test('an error thrown while reading the data is not taken for an unencodable BigInt', async (t) => {
  const data = {
    first: new Map(), // not plain: the hand-written path stops here, before the getter
    get second(): never {
      throw new TypeError('too large a value to read');
    },
  };
  let err: unknown;
  try {
    encodeMessage(0, 1, 2, data);
  } catch (e) {
    err = e;
  }
  t.ok(err instanceof TypeError && !('code' in err), "the getter's own error");
});

t.test('a BigInt outside 64 bits is DS_ERR_UNENCODABLE; other data msgpackr refuses keeps its error', async (t) => {
  t.throws(() => encodeMessage(0, 1, 2, 2n ** 64n), { code: 'DS_ERR_UNENCODABLE', message: /BigInt outside 64 bits/ });
  t.throws(() => encodeMessage(0, 1, 2, [-0, 2n ** 64n]), { code: 'DS_ERR_UNENCODABLE' }, 'with -0 too');
  t.same(decodeFrame(encodeMessage(0, 1, 2, 2n ** 63n)), [[0, 1, 2, 2n ** 63n]], '2^63 is a 64-bit integer');
  let err: unknown;
  try {
    encodeMessage(0, 1, 2, Symbol('s'));
  } catch (e) {
    err = e;
  }
  t.ok(err instanceof Error && !('code' in err) && /symbol/.test(err.message), "msgpackr's own error");
});

t.test('a frame of several messages: every message and its size, on both paths', async (t) => {
  const small = encodeMessage(0, 1, 2, { a: 1 });
  const large = encodeMessage(3, 4, 5, ascii(100));
  const bytes = encodeMessage(6, 7, 8, new Uint8Array([9]));
  for (const [name, parts] of [
    ['small ones', [small, small]],
    ['a small one, then one for msgpackr', [small, large]],
    ['one for msgpackr, then a small one', [bytes, small]],
  ] as Array<[string, Uint8Array[]]>) {
    const sizes: number[] = [];
    const got = decodeFrame(joinFrame([...parts]), sizes);
    t.same(
      got,
      parts.map((p) => packr.unpack(p)),
      `${name}: the messages`,
    );
    t.same(
      sizes,
      parts.map((p) => p.length),
      `${name}: their sizes`,
    );
  }
  const plainSizes: number[] = [];
  t.same(decodePlainFrame(joinFrame([small, small]), plainSizes), [
    [0, 1, 2, { a: 1 }],
    [0, 1, 2, { a: 1 }],
  ]);
  t.same(plainSizes, [small.length, small.length]);
  t.equal(joinFrame([small]), small, 'one message is its own frame');
  t.equal(hex(joinFrame([small, large])), hex(small) + hex(large));
});

t.test('the reader takes what other MessagePack writers send: fixmaps, 64-bit header fields', async (t) => {
  const fixmap = Buffer.from('9400010283a16101a16202a163c0', 'hex'); // [0, 1, 2, {a: 1, b: 2, c: null}] with a fixmap
  t.same(decodePlainFrame(fixmap), [[0, 1, 2, { a: 1, b: 2, c: null }]]);
  const uint64 = Buffer.from('94cf0000000000000005cf00000000000000ffd3fffffffffffffffec0', 'hex'); // [5, 255, -2, null]
  t.same(decodePlainFrame(uint64), [[5, 255, -2, null]], '64-bit integers that are exact numbers');
  const huge = Buffer.from('94cf0020000000000001' + '0000c0', 'hex'); // kind 2^53 + 1, not exact as a number
  t.equal(decodePlainFrame(huge), undefined);
  t.throws(() => decodeFrame(huge), { code: 'DS_ERR_DECODE' });
  const int64Data = Buffer.from('94000000d3fffffffffffffffe', 'hex'); // data -2 as an int64: msgpackr reads it
  t.equal(decodePlainFrame(int64Data), undefined);
  t.same(decodeFrame(int64Data), [[0, 0, 0, packr.unpack(Buffer.from('d3fffffffffffffffe', 'hex'))]]);
});

t.test('frames the hand-written reader leaves to the strict checks and msgpackr', async (t) => {
  const cases: Array<[string, string]> = [
    ['no array of 4', '9300010203'],
    ['a str8 key', '940001028' + '1d90161' + '01'],
    ['a number key', '9400010281' + '0101'],
    ['a map16 of 17 entries', '94000102de0011'],
    ['a non-ASCII string', '94000102a2c3a9'],
    ['a non-ASCII key', '9400010281a2c3a901'],
    ['a str8 longer than 64', '94000102d941' + '78'.repeat(65)],
    ['a float32', '94000102ca3fc00000'],
    ['an extension (undefined)', '94000102d40000'],
  ];
  for (const [name, frame] of cases) {
    const b = Buffer.from(frame, 'hex');
    t.equal(decodePlainFrame(b), undefined, name);
    let reference: unknown;
    try {
      reference = packr.unpackMultiple(b);
    } catch {
      reference = 'refused';
    }
    let ours: unknown;
    try {
      ours = decodeFrame(b);
    } catch (err) {
      ours = (err as { code?: string }).code === 'DS_ERR_DECODE' ? 'refused' : err;
    }
    if (ours !== 'refused') t.ok(isDeepStrictEqual(ours, reference), `${name}: read as msgpackr reads it`);
    else t.pass(`${name}: refused`);
  }
  t.same(decodeFrame(Buffer.from('94000102ca3fc00000', 'hex')), [[0, 1, 2, 1.5]], 'a float32 is read');
  t.same(decodeFrame(Buffer.from('94000102d941' + '78'.repeat(65), 'hex')), [[0, 1, 2, ascii(65)]]);
  t.same(decodeFrame(Buffer.from('94000102a2c3a9', 'hex')), [[0, 1, 2, 'é']]);
});

t.test('malformed and truncated frames are DS_ERR_DECODE with what is wrong', async (t) => {
  const refused: Array<[string, Uint8Array, RegExp]> = [
    ['an empty frame', new Uint8Array(0), /malformed frame \(0 bytes\)/],
    ['an unused type byte', Buffer.from([0xc1]), /malformed frame \(1 bytes\): the unused type byte 0xc1/],
    ['a number, not a message', packr.pack(5), /expected \[kind, context, tag, data\]/],
    ['an array of 3', packr.pack([1, 2, 3]), /expected \[kind, context, tag, data\]/],
    ['an array of 5', packr.pack([1, 2, 3, 4, 5]), /expected \[kind, context, tag, data\]/],
    ['a string kind', packr.pack(['x', 2, 3, 4]), /expected \[kind, context, tag, data\]/],
    ['a float tag', packr.pack([1, 2, 3.5, 4]), /expected \[kind, context, tag, data\]/],
    ['a map key __proto__', Buffer.from('9400010281a95f5f70726f746f5f5f01', 'hex'), /__proto__/],
  ];
  for (const [name, frame, message] of refused) {
    t.throws(() => decodeFrame(frame, []), { code: 'DS_ERR_DECODE', message }, name);
  }
  const whole = encodeMessage(Kind.Message, 3, 9, { key: 'value', list: [1, 2.5, 'x'.repeat(40)] });
  const accepted: number[] = [];
  for (let end = 1; end < whole.length; end++) {
    const cut = whole.subarray(0, end);
    let code: unknown;
    try {
      decodeFrame(cut);
    } catch (err) {
      code = (err as { code?: string }).code;
    }
    if (decodePlainFrame(cut) !== undefined || code !== 'DS_ERR_DECODE') accepted.push(end);
  }
  t.same(accepted, [], 'every cut is refused, none is read by hand');
  const str8 = Buffer.from('94000102d9', 'hex');
  t.equal(decodePlainFrame(str8), undefined, 'a str8 without its length');
  t.equal(decodePlainFrame(Buffer.from('94000102de00', 'hex')), undefined, 'a map16 without its count');
  t.equal(decodePlainFrame(Buffer.from('94000102cb3ff8', 'hex')), undefined, 'a float64 cut short');
  t.equal(decodePlainFrame(Buffer.from('94000102cd01', 'hex')), undefined, 'a uint16 cut short');
});

t.test('chunk messages: header and data in memory of their own, read as Kind.Chunk', async (t) => {
  const data = new Uint8Array(300).map((_, i) => i & 0xff);
  const chunk = encodeChunk(0x12345678, data, 10, 290);
  t.same(decodeFrame(chunk), [[Kind.Chunk, 0, 0x12345678, Buffer.from(data.subarray(10, 290))]]);
  t.same(packr.unpack(chunk), [Kind.Chunk, 0, 0x12345678, Buffer.from(data.subarray(10, 290))], 'what msgpackr reads');
  t.equal(hex(encodeChunkHead(0x12345678, 280)) + hex(data.subarray(10, 290)), hex(chunk), 'the head, then the data as is');
  t.equal(payloadLength(chunk), 280);
  t.ok(isOwnedMessage(chunk), 'a chunk fills memory of its own');
  t.same(decodeFrame(encodeChunk(1, data, 5, 5)), [[Kind.Chunk, 0, 1, Buffer.alloc(0)]], 'an empty chunk');
  t.equal(msgpackCodec.encodeChunk, encodeChunk);
  t.equal(msgpackCodec.encodeChunkHead, encodeChunkHead);
  t.equal(msgpackCodec.encodeMessage, encodeMessage);
  t.equal(msgpackCodec.decodeFrame, decodeFrame);
  t.equal(msgpackCodec.payloadLength, payloadLength);
});

t.test('owned messages are exactly the memory ownedMessage made, whole', async (t) => {
  const owned = ownedMessage(16);
  t.equal(owned.length, 16);
  t.ok(isOwnedMessage(owned));
  t.notOk(isOwnedMessage(owned.subarray(1)), 'not a part of it from an offset');
  t.notOk(isOwnedMessage(owned.subarray(0, 15)), 'not a shorter part');
  t.notOk(isOwnedMessage(new Uint8Array(16)), 'not other memory of the same size');
  t.notOk(isOwnedMessage(Buffer.from(encodeMessage(0, 1, 2, 'x'))), 'not an encoded message');
});

t.test('payloadLength: the data without the envelope and without a length header', async (t) => {
  const cases: Array<[unknown, number]> = [
    [new Uint8Array(5), 5], // bin8
    [new Uint8Array(300), 300], // bin16
    [new Uint8Array(70000), 70000], // bin32
    ['abc', 3], // fixstr
    [ascii(40), 40], // str8
    [ascii(300), 300], // str16
    [ascii(70000), 70000], // str32
    [7, 1], // a fixint has no header to leave out
    [1.5, 9], // a float64 is its type byte and 8 bytes
    [[1, 2], 3],
    [new Date(0), 6], // fixext 4, whose header is counted
  ];
  for (const [data, expected] of cases) {
    for (const header of [
      [0, 1, 2],
      [200, 70000, 2 ** 31],
    ] as Array<[number, number, number]>) {
      t.equal(payloadLength(encodeMessage(...header, data)), expected, `${String(data).slice(0, 12)} with header ${header.join(',')}`);
    }
  }
  const ext8 = Buffer.from('94000102c70301' + '000000', 'hex');
  t.equal(payloadLength(ext8), 3, 'an ext 8 without its 3-byte header');
  const ext16 = Buffer.from('94000102c8000301' + '000000', 'hex');
  t.equal(payloadLength(ext16), 3, 'an ext 16 without its 4-byte header');
  const ext32 = Buffer.from('94000102c90000000301' + '000000', 'hex');
  t.equal(payloadLength(ext32), 3, 'an ext 32 without its 6-byte header');
  const noHeader = Buffer.from('94a1780102', 'hex');
  t.equal(payloadLength(noHeader), noHeader.length, 'no envelope: the whole message');
  t.equal(payloadLength(Buffer.from('9400c1', 'hex')), 3, 'a header cut short: the whole message');
});

t.test('header readers of tracing: integers, integer arrays, message headers', async (t) => {
  const b = encodeMessage(Kind.Rts, 70000, 2 ** 31, [1, -300, 70000]);
  t.same(readHeader(b), { kind: Kind.Rts, context: 70000, tag: 2 ** 31 });
  t.same(readInt(b, 1), [Kind.Rts, 2]);
  t.same(readInt(b, 2), [70000, 7]);
  t.same(readInt(b, 7), [2 ** 31, 12]);
  t.same(readIntArray(b, 12, 3), [[1, -300, 70000], b.length]);
  t.same(readIntArray(b, 12, 2), undefined, 'an array of another length');
  t.same(readIntArray(encodeMessage(0, 0, 0, [1, 'x']), 4, 2), undefined, 'an array of something else');
  t.same(readIntArray(Buffer.from(packr.pack(Array.from({ length: 16 }, () => 1))), 0, 16), undefined, 'more than 15');
  t.same(readIntArray(Buffer.from([0x90]), 0, 0), [[], 1], 'an empty one');
  t.equal(readInt(b, 12), undefined, 'an array is no integer');
  t.equal(readInt(b, b.length), undefined, 'past the end');
  t.equal(readHeader(encodeMessage(0, 0, 0, 1).subarray(1)), undefined, 'no array of 4');
  t.equal(readHeader(Buffer.from('94a17801', 'hex')), undefined, 'a string kind');
  t.equal(readHeader(Buffer.from('9401a178', 'hex')), undefined, 'a string context');
  t.equal(readHeader(Buffer.from('940101a178', 'hex')), undefined, 'a string tag');
  t.same(readHeader(Buffer.from('94000000', 'hex')), { kind: 0, context: 0, tag: 0 }, 'zeros are a header');
  const widths: Array<[string, number]> = [
    ['cc80', 0x80],
    ['cd0100', 0x100],
    ['ce80000000', 2 ** 31],
    ['d080', -0x80],
    ['d18000', -0x8000],
    ['d280000000', -(2 ** 31)],
    ['cf0000000100000000', 2 ** 32],
    ['d3ffffffff00000000', -(2 ** 32)],
    ['ff', -1],
    ['e0', -32],
    ['7f', 127],
  ];
  for (const [bytes, value] of widths) {
    const at = Buffer.from('00' + bytes + '00', 'hex');
    t.same(readInt(at, 1), [value, 1 + bytes.length / 2], bytes);
    t.equal(readInt(at.subarray(0, bytes.length / 2), 1), undefined, `${bytes} cut short`);
  }
});

t.test('headers and keys the hand-written reader must not take: refused as msgpackr-read frames are', async (t) => {
  const refused: Array<[string, string]> = [
    ['a uint64 kind of 2^64 - 1 (no number)', '94cfffffffffffffffff0000c0'],
    ['a uint64 kind of 2^60 (exact, but not a safe integer)', '94cf10000000000000000000c0'],
    ['a nil kind followed by eight bytes', '94c000000000000000010000c0'],
    ['a number key followed by bytes that would read as a string', '9400010281014105'],
  ];
  for (const [name, frame] of refused) {
    const b = Buffer.from(frame, 'hex');
    t.equal(decodePlainFrame(b), undefined, `${name}: not read by hand`);
    t.throws(() => decodeFrame(b), { code: 'DS_ERR_DECODE' }, `${name}: refused`);
  }
  t.same(
    readIntArray(Buffer.from(packr.pack(Array(15).fill(1))), 0, 15),
    [Array(15).fill(1), 16],
    '15 integers, the most a fixarray holds',
  );
  t.equal(payloadLength(encodeMessage(0, 1, 2, '')), 0, 'an empty string has no payload');
  t.equal(payloadLength(encodeMessage(0, 1, 2, ascii(31))), 31, 'nor a fixstr of 31 characters any header');
});
