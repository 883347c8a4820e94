// The message codec loads msgpackr's native string reader (the optional msgpackr-extract) only once
// it has decoded 1 MiB with msgpackr (runtime/transport/codec.ts), and frames decode the same before
// and after. Alone in its process: another test loading msgpackr's main entry would load it at once.
import { createRequire } from 'node:module';
import t from 'tap';
import * as msgpackrWithoutNative from 'msgpackr/pack';
import { decodeFrame, encodeMessage } from '../../runtime/transport/codec.ts';

/** msgpackr's own flag (exported by this entry, though its types omit it), read live. */
const nativeStrings = (): boolean =>
  (msgpackrWithoutNative as unknown as { isNativeAccelerationEnabled: boolean }).isNativeAccelerationEnabled;

const installed = ((): boolean => {
  try {
    createRequire(import.meta.url).resolve('msgpackr-extract');
    return true;
  } catch {
    return false;
  }
})();

t.test('the native string reader loads after 1 MiB decoded, and changes no decoded value', async (t) => {
  const strings = Array.from({ length: 20_000 }, (_, i) => `string number ${i}`.padEnd(24, '.'));
  const frame = encodeMessage(0, 0, 7, strings);
  t.ok(frame.length > 400_000 && frame.length < 1 << 20, `a frame of ${frame.length} bytes`);
  t.same(decodeFrame(frame), [[0, 0, 7, strings]], 'decoded in JavaScript');
  t.equal(nativeStrings(), false, 'not loaded under 1 MiB');
  decodeFrame(frame);
  decodeFrame(frame);
  // The codec's import('msgpackr') sets the reader when it has loaded: wait for that (bounded).
  for (let turn = 0; installed && !nativeStrings() && turn < 200_000; turn++) await new Promise((resolve) => setImmediate(resolve));
  t.equal(nativeStrings(), installed, installed ? 'loaded past 1 MiB' : 'not installed: JavaScript still');
  t.same(decodeFrame(frame), [[0, 0, 7, strings]], 'the same values after');
});
