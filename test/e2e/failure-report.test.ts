import t from 'tap';
import { dsrun } from '../helpers/dsrun.ts';

t.test("a rank's DsError is named by its code in dsrun's failure summary", async (t) => {
  const r = await dsrun(['-n', '2', 'test/fixtures/sends-a-map.ts']);
  t.equal(r.code, 1);
  t.match(r.stderr, /^dsrun: rank 1 failed \(exit code 1\): DS_ERR_UNENCODABLE: send to rank 0 with tag 0: payload\.m is a Map/m);
  t.match(r.stderr, /sends-a-map\.ts:\d+/, 'the stack follows');
});

t.test('a --kill or --pause that never fired is reported at the end', async (t) => {
  const r = await dsrun(['-n', '2', '--kill', '0@1m', '--pause', '1@90+1s', 'examples/hello.ts']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /^dsrun: --kill 0@60s did not fire: (rank 0 had ended|the job ended) at \d+\.\d\d s$/m);
  t.match(r.stderr, /^dsrun: --pause 1@90s\+1s did not fire: (rank 1 had ended|the job ended) at \d+\.\d\d s$/m);
});
