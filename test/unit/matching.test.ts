import t from 'tap';
import { ANY_SOURCE, ANY_TAG, runLocal } from 'dsmpi';

t.test('non-overtaking: two messages from one sender matching one wildcard receive arrive in send order', async (t) => {
  const [got] = await runLocal(2, async (c) => {
    if (c.rank === 1) {
      await c.send('first', 0, 5);
      await c.send('second', 0, 7);
      return [];
    }
    const a = await c.recv(ANY_SOURCE, ANY_TAG);
    const b = await c.recv(ANY_SOURCE, ANY_TAG);
    return [a.data, b.data];
  });
  t.same(got, ['first', 'second']);
});
