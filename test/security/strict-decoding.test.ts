// The decoder accepts only what a dsmpi sender writes, and the encoder writes only what arrives
// exactly (docs/security.md, "Strict decoding").
import { Buffer } from 'node:buffer';
import { Packr } from 'msgpackr';
import t from 'tap';
import { DsError } from '../../runtime/errors.ts';
import { assertPlainData } from '../../runtime/payload.ts';
import { decodeValue, encodeValue } from '../../runtime/protocol/control-codec.ts';
import { decodeFrame, encodeMessage, readInt } from '../../runtime/transport/codec.ts';

/** msgpackr as a hostile peer might configure it: every extension type it knows. */
const hostile = new Packr({ structuredClone: true, useRecords: true, moreTypes: true });
const plain = new Packr({ useRecords: false, mapsAsObjects: true });
const roundTrip = (data: unknown): unknown => decodeFrame(encodeMessage(0, 0, 0, data))[0][3];

t.test('extension types a sender never writes are refused, not built', async (t) => {
  const smuggled: Array<[string, unknown]> = [
    ['a Set', new Set([1, 2])],
    ['a RegExp', /x+/g],
    ['an Error', new Error('boom')],
    ['a Float64Array', new Float64Array([1, 2])],
    ['a Map', new Map([[1, 2]])],
  ];
  for (const [name, value] of smuggled) {
    const bytes = hostile.pack([0, 0, 0, value]);
    const built = hostile.unpack(bytes) as unknown[];
    t.ok(built[3] instanceof Object && Object.getPrototypeOf(built[3]) !== Object.prototype, `${name}: a lax decoder builds it`);
    t.throws(
      () => decodeFrame(bytes),
      { code: 'DS_ERR_DECODE', message: /extension|key that is not a string/ },
      `${name}: refused in a rank frame`,
    );
    t.throws(() => decodeValue(hostile.pack({ t: 'peer', v: value })), { code: 'DS_ERR_DECODE' }, `${name}: refused in a control frame`);
  }
  t.same(roundTrip({ d: new Date(5), u: undefined }), { d: new Date(5), u: undefined }, 'Date and undefined, which senders write, pass');
});

t.test('64-bit header integers are exact or refused', async (t) => {
  const header = (kind: bigint): Buffer => {
    const b = Buffer.alloc(13);
    b[0] = 0x94;
    b[1] = 0xcf;
    b.writeBigUInt64BE(kind, 2);
    b[10] = 0;
    b[11] = 0;
    b[12] = 0xc0;
    return b;
  };
  t.same(decodeFrame(header(5n)), [[5, 0, 0, null]], 'a small value in 64 bits is read exactly');
  t.throws(() => decodeFrame(header(2n ** 53n + 1n)), { code: 'DS_ERR_DECODE' }, 'a value a number cannot hold is refused');
  t.equal(readInt(header(2n ** 53n + 1n), 1), undefined, 'and not rounded by the trace reader');
});

t.test('a BigInt outside 64 bits is DS_ERR_UNENCODABLE, not a RangeError', async (t) => {
  for (const big of [2n ** 64n, -(2n ** 63n) - 1n]) {
    t.throws(() => encodeMessage(0, 0, 0, { big }), { code: 'DS_ERR_UNENCODABLE' });
    t.throws(() => assertPlainData({ big }, 'send'), { code: 'DS_ERR_UNENCODABLE', message: /payload\.big is a BigInt outside 64 bits/ });
  }
  t.equal(roundTrip(2n ** 64n - 1n), 2n ** 64n - 1n, 'the largest 64-bit value goes through');
});

t.test('-0 arrives as -0, on the small-message path and on msgpackr', async (t) => {
  t.ok(Object.is(roundTrip(-0), -0), 'alone');
  t.ok(Object.is((roundTrip([1, -0]) as number[])[1], -0), 'in a small array');
  const big = { list: Array.from({ length: 40 }, (_, i) => (i === 39 ? -0 : i)), text: 'é'.repeat(100), bytes: new Uint8Array([1, 2]) };
  const back = roundTrip(big) as typeof big;
  t.ok(Object.is(back.list[39], -0), 'in a large payload');
  t.same({ ...back, bytes: [...back.bytes] }, { ...big, bytes: [1, 2] }, 'the rest unchanged');
  t.equal(plain.pack(-0)[0], 0x00, 'msgpackr alone would have sent the integer 0');
});

t.test('lone surrogates and __proto__ keys are refused with what is wrong', async (t) => {
  t.throws(() => assertPlainData('a\ud800b', 'send'), { code: 'DS_ERR_UNENCODABLE', message: /lone surrogate/ });
  t.throws(() => assertPlainData({ ['\udc00']: 1 }, 'send'), { code: 'DS_ERR_UNENCODABLE', message: /key with a lone surrogate/ });
  t.throws(() => assertPlainData(JSON.parse('{"a":{"__proto__":{"x":1}}}'), 'send'), {
    code: 'DS_ERR_UNENCODABLE',
    message: /payload\.a has a key __proto__/,
  });
  t.doesNotThrow(() => assertPlainData('a\ud83d\ude00b', 'send'), 'a surrogate pair is fine');
  // What a peer could still send: refused on arrival.
  t.throws(() => decodeValue(Buffer.from('81a95f5f70726f746f5f5f01', 'hex')), { code: 'DS_ERR_DECODE', message: /__proto__/ });
  t.throws(() => decodeValue(Buffer.from('a2c328', 'hex')), { code: 'DS_ERR_DECODE', message: /not UTF-8/ }, 'an invalid UTF-8 string');
  t.throws(() => decodeValue(Buffer.from('8101a161', 'hex')), { code: 'DS_ERR_DECODE', message: /not a string/ }, 'a number as key');
});

t.test('truncated and deeply nested bytes fail cleanly', async (t) => {
  const full = encodeValue({ a: [1, 2, 'three'], b: new Uint8Array(10) }) as Buffer;
  for (let cut = 1; cut < full.length; cut++) {
    t.throws(() => decodeValue(full.subarray(0, cut)), DsError, `cut at ${cut}`);
  }
  const deep = Buffer.alloc(200_000, 0x91);
  t.throws(() => decodeValue(deep), { code: 'DS_ERR_DECODE' }, '200 000 nested arrays without an end');
});
