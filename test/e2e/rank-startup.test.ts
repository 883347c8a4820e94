// What a rank loads at start (docs/dsrun.md, docs/threads.md): a thread rank none of the HTTP,
// TLS, crypto and compression modules that only the WebSocket transport uses, a process rank HTTP
// but not TLS (unless the job uses it) nor compression; no rank msgpackr's native string reader,
// which it loads once it has decoded 1 MiB, nor ws's native masking (bufferutil), which rank links
// (masked with a zero key) never use and control frames of 256 bytes or more load.
import t from 'tap';
import { dsrun } from '../helpers/dsrun.ts';

t.test('a thread rank starts without the WebSocket transport’s modules, and loads the native string reader once it pays', async (t) => {
  const r = await dsrun(['-n', '2', '--threads', 'test/fixtures/loaded-modules.ts']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^\[rank 1\] started: modules: -; msgpackr-extract: false; bufferutil: false$/m);
  t.match(r.stdout, /^\[rank 1\] after strings: .*msgpackr-extract: true; bufferutil: false$/m);
});

t.test(
  'a process rank starts without TLS, compression and native masking, and loads the native string reader once it has decoded 1 MiB',
  async (t) => {
    const r = await dsrun(['-n', '2', 'test/fixtures/loaded-modules.ts']);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /^\[rank 1\] started: modules: http; msgpackr-extract: false; bufferutil: false$/m);
    t.match(r.stdout, /^\[rank 1\] after strings: .*msgpackr-extract: true; bufferutil: false$/m);
  },
);
