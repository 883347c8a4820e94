// encodeMessage writes messages of small plain data itself, and decodeFrame reads frames of only
// such messages itself: both must agree with msgpackr byte for byte and value for value.
import { isDeepStrictEqual } from 'node:util';
import t from 'tap';
import { Packr } from 'msgpackr';
import { decodeFrame, encodeMessage, joinFrame } from '../../runtime/transport/codec.ts';
import { seededRandom } from '../../runtime/random.ts';

const packr = new Packr({ useRecords: false, mapsAsObjects: true });
const INTS = [
  0,
  1,
  0x1f,
  0x20,
  0x7f,
  0x80,
  0xff,
  0x100,
  0xffff,
  0x10000,
  2 ** 32 - 1,
  2 ** 32,
  -1,
  -0x20,
  -0x21,
  -0x80,
  -0x81,
  -0x8000,
  -0x8001,
  -(2 ** 31),
  -(2 ** 31) - 1,
  2 ** 40,
  -(2 ** 40),
];
const DATA = [
  null,
  true,
  false,
  undefined,
  'x',
  [1],
  { a: 1 },
  [[[[[1]]]]],
  { a: { b: { c: { d: { e: 1 } } } } },
  // -0 is left out: dsmpi writes it as a float64, where msgpackr loses its sign (test/security/strict-decoding.test.ts).
  1.5,
  NaN,
  Infinity,
  2 ** 53,
  ...INTS,
];

t.test('every header and small payload: the same bytes as msgpackr, and the same values back', async (t) => {
  let cases = 0;
  let differ = 0;
  for (const kind of [0, 1, 2, 200]) {
    for (const context of [0, 1, 300, 70000, 2 ** 32 - 1]) {
      for (const tag of [0, 5, 0x7f, 0x80, 2 ** 30, 2 ** 31]) {
        for (const data of DATA) {
          cases++;
          const ours = Buffer.from(encodeMessage(kind, context, tag, data));
          const reference = Buffer.from(packr.pack([kind, context, tag, data]));
          const decoded = decodeFrame(joinFrame([ours, ours]));
          const expected = packr.unpackMultiple(Buffer.concat([reference, reference])) as unknown[][];
          const same =
            ours.equals(reference) &&
            decoded.length === 2 &&
            decoded.every((env, i) =>
              env.every(
                (v, j) => Object.is(v, expected[i][j]) || (typeof v === 'object' && JSON.stringify(v) === JSON.stringify(expected[i][j])),
              ),
            );
          if (!same) {
            differ++;
            if (differ <= 5)
              t.fail(`[${kind}, ${context}, ${tag}, ${String(data)}]: ${ours.toString('hex')} vs ${reference.toString('hex')}`);
          }
        }
      }
    }
  }
  t.equal(differ, 0, `${cases} messages agree with msgpackr`);
});

/** Reads a message cut short: refused as DS_ERR_DECODE, read the same as msgpackr reads it, or neither. */
function readCut(cut: Uint8Array): 'refused' | 'same' | 'differs' | 'wrong error' {
  let ours: unknown;
  try {
    ours = decodeFrame(cut);
  } catch (err) {
    return (err as { code?: string }).code === 'DS_ERR_DECODE' ? 'refused' : 'wrong error';
  }
  return isDeepStrictEqual(ours, packr.unpackMultiple(Buffer.from(cut))) ? 'same' : 'differs';
}

t.test('truncated small messages are refused or read exactly as msgpackr reads them', async (t) => {
  const random = seededRandom(7);
  let mismatches = 0;
  let otherErrors = 0;
  for (let i = 0; i < 5000; i++) {
    const m = encodeMessage(i % 3, i % 1000, (i * 7919) % 2 ** 20, i % 2 ? null : ((i * 31) % 70000) - 35000);
    const outcome = readCut(m.subarray(0, Math.floor(random() * m.length)));
    if (outcome === 'differs') mismatches++;
    if (outcome === 'wrong error') otherErrors++;
  }
  t.equal(mismatches, 0, 'what is read is what msgpackr reads');
  t.equal(otherErrors, 0, 'what is refused is refused as DS_ERR_DECODE');
});

/** A random value: mostly plain data of every kind encodeMessage writes itself, sometimes not. */
function randomValue(random: () => number, depth: number): unknown {
  const pick = Math.floor(random() * 16);
  const length = (max: number): number => Math.floor(random() * (max + 1));
  const text = (max: number, alphabet: string): string =>
    Array.from({ length: length(max) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
  switch (pick) {
    case 0:
      return null;
    case 1:
      return random() < 0.5;
    case 2:
      return INTS[Math.floor(random() * INTS.length)];
    case 3:
      return Math.round((random() - 0.5) * 2 ** (1 + length(40))) || 0; // not -0 (see DATA)
    case 4:
      return [1.5, -1.5, NaN, Infinity, -Infinity, 2 ** 53, 1e-300, Math.PI][length(7)];
    case 5:
    case 6:
      return text(70, 'abcXYZ_09 {}"\\/~');
    case 7:
      return text(4, 'aé€\u0000😀');
    case 8:
    case 9:
      return depth > 3 ? 0 : Array.from({ length: length(18) }, () => randomValue(random, depth + 1));
    case 10:
    case 11: {
      if (depth > 3) return 'deep';
      const object: Record<string, unknown> = {};
      for (let i = length(18); i > 0; i--) {
        // Not __proto__: dsmpi refuses that key both ways (test/security/strict-decoding.test.ts).
        const key = random() < 0.95 ? text(random() < 0.9 ? 8 : 40, 'abkz0_') : 'constructor';
        Object.defineProperty(object, key, { value: randomValue(random, depth + 1), enumerable: true, writable: true });
      }
      return object;
    }
    case 12:
      // No Map: senders refuse it, and a map with a non-string key is refused on arrival.
      return [undefined, 5n, -(2n ** 63n), new Uint8Array([1, 2]), new Uint8Array(0), new Date(0)][length(5)];
    case 13:
      return Object.assign(Object.create(null) as object, { a: 1 });
    default:
      return length(1000) - 500;
  }
}

t.test('random plain data: the same bytes as msgpackr, and the same values back', async (t) => {
  const random = seededRandom(11);
  let differ = 0;
  for (let i = 0; i < 20000; i++) {
    const data = randomValue(random, 0);
    const header = [i % 3, (i * 13) % 70000, (i * 7919) % 2 ** 31] as const;
    const ours = Buffer.from(encodeMessage(...header, data));
    const reference = Buffer.from(packr.pack([...header, data]));
    const decoded = decodeFrame(joinFrame([ours, reference]));
    const expected = packr.unpackMultiple(Buffer.concat([reference, reference]));
    if (!ours.equals(reference) || !isDeepStrictEqual(decoded, expected)) {
      if (++differ <= 5) t.fail(`seed 11, case ${i}: ${ours.toString('hex')} vs ${reference.toString('hex')}`);
    }
  }
  t.equal(differ, 0, '20,000 random messages agree with msgpackr');
});

t.test('truncated plain messages are refused or read exactly as msgpackr reads them', async (t) => {
  const random = seededRandom(13);
  let mismatches = 0;
  let otherErrors = 0;
  let cuts = 0;
  for (let i = 0; i < 2000; i++) {
    const m = encodeMessage(0, 1, 2, randomValue(random, 0));
    // Every cut of a short message, 30 of a long one.
    const ends =
      m.length <= 60 ? Array.from({ length: m.length }, (_, k) => k) : Array.from({ length: 30 }, () => Math.floor(random() * m.length));
    for (const end of ends) {
      cuts++;
      const outcome = readCut(m.subarray(0, end));
      if (outcome === 'wrong error') otherErrors++;
      if (outcome === 'differs' && ++mismatches <= 5) t.fail(`seed 13, case ${i}, cut at ${end}: ${Buffer.from(m).toString('hex')}`);
    }
  }
  t.equal(mismatches, 0, `${cuts} truncations: what is read is what msgpackr reads`);
  t.equal(otherErrors, 0, 'what is refused is refused as DS_ERR_DECODE');
});

t.test('plain data too large to write in place goes to msgpackr whole', async (t) => {
  const wide = Array.from({ length: 15 }, () => Array.from({ length: 15 }, () => 'x'.repeat(60)));
  const bytes = Buffer.from(encodeMessage(0, 1, 2, wide));
  t.ok(bytes.equals(Buffer.from(packr.pack([0, 1, 2, wide]))), `${bytes.length} bytes, as msgpackr writes them`);
  t.same(decodeFrame(bytes), [[0, 1, 2, wide]]);
  const next = Buffer.from(encodeMessage(0, 1, 2, 'after'));
  t.same(decodeFrame(next), [[0, 1, 2, 'after']], 'the next message is whole');
});
