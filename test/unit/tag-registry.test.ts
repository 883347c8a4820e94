import t from 'tap';
import { defineTags, FIRST_ALLOCATED_TAG, simulate, isDsError } from 'dsmpi';
import { payloadPreview, PREVIEW_CHARS } from '../../runtime/transport/trace-label.ts';

t.test('namespaces get distinct tags; names and notes reach the trace', async (t) => {
  const Ping = defineTags('registry-test-ping', ['Ping', 'Pong'] as const);
  const Other = defineTags('registry-test-other', ['Ping'] as const);
  t.ok(Ping.Ping >= FIRST_ALLOCATED_TAG && Ping.Pong >= FIRST_ALLOCATED_TAG);
  t.equal(new Set([Ping.Ping, Ping.Pong, Other.Ping]).size, 3, 'two namespaces composed never share a number');
  t.equal(defineTags('registry-test-ping', ['Ping', 'Pong']), Ping, 'declaring the same names again returns the same table');
  t.ok(Object.isFrozen(Ping));

  const result = await simulate({ n: 2, seed: 3 }, async (comm) => {
    if (comm.rank === 0) {
      await comm.send({ ballot: [3, 1], value: 'x' }, 1, Ping.Ping);
      await comm.recv(1, Ping.Pong);
      await comm.recv(1, 7);
    } else {
      const m = await comm.recv(0, Ping.Ping);
      comm.note('got', m.data);
      await comm.send(null, 0, Ping.Pong);
      await comm.send('raw', 0, 7);
    }
  });
  const sends = result.trace.filter((e) => e.ev === 'send');
  t.same(
    sends.map((e) => [e.name, e.preview]),
    [
      ['Ping', '{"ballot":[3,1],"value":"x"}'],
      ['Pong', 'null'],
      [undefined, '"raw"'],
    ],
    'declared tags are named, an undeclared one is not; every send previews its payload',
  );
  t.same(
    result.trace.filter((e) => e.ev === 'deliver').map((e) => e.name),
    ['Ping', 'Pong', undefined],
  );
  const note = result.trace.find((e) => e.ev === 'note');
  t.match(note, { ev: 'note', rank: 1, name: 'got', value: { ballot: [3, 1], value: 'x' } });
  t.match(result.jsonl(), /"ev":"note","rank":1,"lamport":\d+,"name":"got","value":\{"ballot":\[3,1\],"value":"x"\}/);
});

t.test('collisions and malformed declarations are refused, leaving nothing behind', async (t) => {
  const A = defineTags('registry-test-fixed', { Hello: 7 });
  t.equal(A.Hello, 7, 'fixed numbers are kept');
  const refused = (fn: () => unknown, pattern: RegExp): void => {
    t.throws(fn, pattern);
    try {
      fn();
    } catch (err) {
      t.ok(isDsError(err) && err.code === 'DS_ERR_INVALID_ARGUMENT');
    }
  };
  refused(
    () => defineTags('registry-test-clash', { Bye: 8, Hi: 7 }),
    /'registry-test-clash.Hi' wants tag 7, already 'registry-test-fixed.Hello'/,
  );
  t.same(defineTags('registry-test-clash', { Bye: 8 }), { Bye: 8 }, 'the refused declaration registered nothing');
  refused(() => defineTags('registry-test-fixed', ['Hello', 'World']), /'registry-test-fixed' is already declared/);
  refused(() => defineTags('registry-test-dup', ['A', 'A']), /names must be distinct/);
  refused(() => defineTags('', ['A']), /namespace is a non-empty string/);
  refused(() => defineTags('registry-test-range', { A: -1 }), /tag -1 is not an integer/);
});

t.test('payload previews are short and cut visibly', async (t) => {
  t.equal(payloadPreview([1, 'a', { b: true }, new Uint8Array(3)]), '[1,"a",{"b":true},<3 bytes>]');
  const long = payloadPreview(Array.from({ length: 10_000 }, (_, i) => i));
  t.equal(long.length, PREVIEW_CHARS);
  t.ok(long.endsWith('…'));
});
