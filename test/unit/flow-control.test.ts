import t from 'tap';
import { runLocal, simulate, type Communicator, type Request } from 'dsmpi';

const BOUND = 64 * 1024;

/**
 * Rank 0 floods rank 1 with `count` numbered messages while rank 1 is busy elsewhere (it waits for a
 * timer); rank 1 then notes how many bytes it holds unmatched and receives them all.
 */
async function flood(c: Communicator, count: number, busyMs: number): Promise<{ held: number; got: number[] } | undefined> {
  if (c.rank === 0) {
    for (let i = 0; i < count; i++) await c.send({ i, pad: 'x'.repeat(40) }, 1, 1);
    return undefined;
  }
  await new Promise<void>((resolve) => c.clock.setTimer(busyMs, resolve));
  const held = c.engine.bufferedBytes();
  const got: number[] = [];
  for (let i = 0; i < count; i++) got.push((await c.recv<{ i: number }>(0, 1)).data.i);
  return { held, got };
}

const inOrder = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

t.test('a flood of a slow receiver: the sender is held at the bound, nothing is lost or reordered', async (t) => {
  const count = 3000;
  const sim = await simulate({ n: 2, seed: 5, recvBufferBytes: BOUND }, (c) => flood(c, count, 1000));
  const r = sim.results[1]!;
  t.ok(r.held <= BOUND, `held ${r.held} bytes, bound ${BOUND}`);
  t.ok(r.held > BOUND / 2, `the buffer filled (${r.held} bytes) before the sender was held`);
  t.same(r.got, inOrder(count));

  const [, local] = await runLocal({ n: 2, recvBufferBytes: BOUND }, (c) => flood(c, count, 200));
  t.ok(local!.held <= BOUND, `in memory: held ${local!.held} bytes`);
  t.same(local!.got, inOrder(count));
});

/**
 * Head of line: rank 0 posts more non-blocking sends on tag 1 than the buffer holds, then a blocking
 * send on tag 2; rank 1 receives tag 2 first. Correct under MPI's rules, so it must complete.
 */
async function headOfLine(c: Communicator, count: number): Promise<number[] | undefined> {
  const big = 'y'.repeat(1000);
  if (c.rank === 0) {
    const pending: Request<void>[] = [];
    for (let i = 0; i < count; i++) pending.push(c.isend({ i, big }, 1, 1));
    await c.send('last', 1, 2);
    await Promise.all(pending);
    // A second sender task blocked on tag 1 while the receiver waits on tag 3.
    const blocked = (async () => {
      for (let i = 0; i < count; i++) await c.send({ i, big }, 1, 1);
    })();
    await c.send('later', 1, 3);
    await blocked;
    return undefined;
  }
  t.equal((await c.recv(0, 2)).data, 'last');
  const got: number[] = [];
  for (let i = 0; i < count; i++) got.push((await c.recv<{ i: number }>(0, 1)).data.i);
  t.equal((await c.recv(0, 3)).data, 'later');
  for (let i = 0; i < count; i++) got.push((await c.recv<{ i: number }>(0, 1)).data.i);
  return got;
}

t.test('head of line: a receive of a later tag completes while earlier sends are held', async (t) => {
  const count = 300; // about 300 KiB on tag 1: several times the bound
  const expected = [...inOrder(count), ...inOrder(count)];
  const sim = await simulate({ n: 2, seed: 9, recvBufferBytes: BOUND }, (c) => headOfLine(c, count));
  t.same(sim.results[1], expected);
  const [, local] = await runLocal({ n: 2, recvBufferBytes: BOUND }, (c) => headOfLine(c, count));
  t.same(local, expected);
});

t.test('large messages travel in chunks, into a buffer of the receiver when it gives one', async (t) => {
  const size = 3 * 1024 * 1024 + 17;
  await runLocal(2, async (c) => {
    if (c.rank === 0) {
      const bytes = new Uint8Array(size);
      for (let i = 0; i < size; i++) bytes[i] = (i * 7) & 0xff;
      await c.send(bytes, 1, 1);
      await c.send(bytes, 1, 2);
      await c.send(
        Array.from({ length: 100_000 }, (_, i) => i),
        1,
        3,
      );
      await c.send(bytes, 1, 4);
      await c.send(new Uint8Array(10), 1, 5);
      return;
    }
    const plain = await c.recv<Uint8Array>(0, 1);
    t.equal(plain.data.length, size);
    t.ok(
      plain.data.every((b, i) => b === ((i * 7) & 0xff)),
      'every byte arrived',
    );
    const into = new Uint8Array(size + 100);
    const direct = await c.recv<Uint8Array>(0, 2, { into });
    t.equal(direct.data.buffer, into.buffer, 'written into the given buffer');
    t.equal(direct.data.length, size);
    t.ok(direct.data.every((b, i) => b === ((i * 7) & 0xff)));
    const numbers = await c.recv<number[]>(0, 3);
    t.equal(numbers.data.length, 100_000);
    t.equal(numbers.data[99_999], 99_999);
    await t.rejects(c.recv(0, 4, { into: new Uint8Array(10) }), { code: 'DS_ERR_PAYLOAD_TOO_LARGE', message: /do not fit/ });
    const small = await c.recv<Uint8Array>(0, 5, { into });
    t.equal(small.data.buffer, into.buffer, 'a small message is copied into the buffer too');
    t.equal(small.data.length, 10);
  });
});

t.test('maxPayload counts the payload, not its envelope', async (t) => {
  await runLocal({ n: 2, maxPayload: 1000 }, async (c) => {
    if (c.rank === 0) {
      await c.send(new Uint8Array(1000), 1, 7);
      t.throws(() => c.send(new Uint8Array(1001), 1), { code: 'DS_ERR_PAYLOAD_TOO_LARGE', message: /payload is 1001 bytes/ });
      return;
    }
    t.equal((await c.recv<Uint8Array>(0, 7)).data.length, 1000);
  });
});
