// assertPlainData (runtime/payload.ts) keeps one set of the objects it is inside for every check: a
// check that stops early (a problem found, or a getter that throws) must leave nothing behind for
// the next one, which would take an object it meets again for a cycle.
import t from 'tap';
import { assertPlainData } from '../../runtime/payload.ts';

t.test('the path of a problem, and no trace of it in the next check', async (t) => {
  const shared = { x: 1 };
  t.throws(() => assertPlainData({ a: [shared, () => 0] }, 'send()'), {
    code: 'DS_ERR_UNENCODABLE',
    message: /payload\.a\[1\] is a function/,
  });
  t.doesNotThrow(() => assertPlainData({ b: shared }, 'send()'), 'the object met in the failed check is no cycle now');
});

t.test('a getter that throws mid-check leaves nothing behind either', async (t) => {
  let reads = 0;
  const payload = {
    get flaky(): number {
      if (reads++ === 0) throw new Error('getter failed');
      return 1;
    },
  };
  t.throws(() => assertPlainData(payload, 'send()'), /getter failed/);
  t.doesNotThrow(() => assertPlainData(payload, 'send()'), 'the same object, checked again, is no cycle');
});

t.test('a real cycle is still one, and a shared object twice is not', async (t) => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  t.throws(() => assertPlainData({ c: cyclic }, 'send()'), { message: /payload\.c\.self is a cycle/ });
  const shared = { x: 1 };
  t.doesNotThrow(() => assertPlainData([shared, shared, { s: shared }], 'send()'));
});
