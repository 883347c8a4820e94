import t from 'tap';
import { startLocal } from 'dsmpi';
import { decodeFrame, encodeMessage, joinFrame } from '../../runtime/transport/codec.ts';

t.test('frames carry several messages back to back and round-trip plain data', async (t) => {
  const values = [null, 1.5, -7, 2n ** 60n, 'text', true, [1, [2, { a: 'b' }]], { nested: { deep: [null] } }, new Uint8Array([1, 2, 3])];
  const frame = joinFrame(values.map((v, i) => encodeMessage(0, 4, i, v)));
  const decoded = decodeFrame(frame);
  t.equal(decoded.length, values.length);
  decoded.forEach(([kind, ctx, tag, data], i) => {
    t.same([kind, ctx, tag], [0, 4, i]);
    t.same(data, values[i]);
  });
});

t.test('malformed, truncated and unexpected frames are reported and never crash the rank', async (t) => {
  const reports: Array<{ rank: number; code: string; message: string }> = [];
  const job = startLocal(
    { n: 2, report: (rank, err) => reports.push({ rank, code: (err as unknown as { code: string }).code, message: err.message }) },
    async (c) => {
      if (c.rank === 0) {
        const good = encodeMessage(0, 0, 1, { hello: 'world' });
        job.network.inject(0, 1, new Uint8Array([0xc1])); // a byte MessagePack never uses
        job.network.inject(0, 1, good.subarray(0, good.length - 3)); // truncated
        job.network.inject(0, 1, encodeMessage(0, 0, 1, 'x').subarray(1)); // not an envelope
        job.network.inject(0, 1, encodeMessage(77, 0, 1, 'x')); // unknown kind
        job.network.inject(0, 1, encodeMessage(0, 1_000_000, 1, 'x')); // no such communicator
        await c.send('still fine', 1, 2);
        return 'sent';
      }
      return (await c.recv(0, 2)).data;
    },
  );
  t.same(await job.results, ['sent', 'still fine']);
  t.same(
    reports.map((r) => [r.rank, r.code]),
    [
      [1, 'DS_ERR_DECODE'],
      [1, 'DS_ERR_DECODE'],
      [1, 'DS_ERR_DECODE'],
      [1, 'DS_ERR_PROTOCOL'],
      [1, 'DS_ERR_PROTOCOL'],
    ],
  );
  t.match(reports[3].message, /unknown message kind 77/);
  t.match(reports[4].message, /context 1000000, which does not exist/);
  await Promise.all(job.comms.map((c) => c.engine.shutdown()));
});
