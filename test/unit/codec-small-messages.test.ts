// encodeMessage writes messages whose data is null, a boolean or a 32-bit integer itself, and
// decodeFrame reads frames of only such messages itself: both must agree with msgpackr byte for byte.
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
const DATA = [null, true, false, undefined, 'x', [1], { a: 1 }, -0, 1.5, NaN, Infinity, 2 ** 53, ...INTS];

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

t.test('truncated small messages are refused or read exactly as msgpackr reads them', async (t) => {
  const random = seededRandom(7);
  let mismatches = 0;
  let otherErrors = 0;
  for (let i = 0; i < 5000; i++) {
    const m = encodeMessage(i % 3, i % 1000, (i * 7919) % 2 ** 20, i % 2 ? null : ((i * 31) % 70000) - 35000);
    const cut = m.subarray(0, Math.floor(random() * m.length));
    let ours: unknown;
    try {
      ours = decodeFrame(cut);
    } catch (err) {
      if ((err as { code?: string }).code !== 'DS_ERR_DECODE') otherErrors++;
      continue;
    }
    if (JSON.stringify(ours) !== JSON.stringify(packr.unpackMultiple(Buffer.from(cut)))) mismatches++;
  }
  t.equal(mismatches, 0, 'what is read is what msgpackr reads');
  t.equal(otherErrors, 0, 'what is refused is refused as DS_ERR_DECODE');
});
