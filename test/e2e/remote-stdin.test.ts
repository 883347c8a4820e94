// A --hosts job on this machine's loopback (one agent, in this process): standard input goes to
// rank 0 through its agent, as with mpirun; --no-ship runs the source with the tsx of dsmpi's own
// installation.
import t from 'tap';
import { startAgent } from '../../launcher/agent.ts';
import { dsrun } from '../helpers/dsrun.ts';

const SECRET = `stdin-secret-${process.pid}`;
process.env.DSMPI_SECRET = SECRET; // for the dsrun the helper starts
const agent = await startAgent({ host: '127.0.0.1', port: 0, secret: SECRET, log: () => {} });
t.teardown(() => agent.close());
const hosts = `127.0.0.1:${new URL(agent.url).port}:2`;

for (const mode of [[], ['--no-ship']]) {
  t.test(`standard input reaches rank 0 on its host${mode.length ? ` (${mode[0]})` : ''}`, async (t) => {
    const input = 'line one\nline two\n'.repeat(2000);
    const r = await dsrun([...mode, '--hosts', hosts, '-n', '2', '-x', 'DSMPI_TEST_VAR=5', 'test/fixtures/stdin-env.ts'], { input });
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, `[rank 0] stdin ${JSON.stringify(input)} var 5\n`, 'all of it, in order');
    t.match(r.stdout, '[rank 1] stdin "" var 5\n', 'the other ranks read end-of-file');
  });
}

t.test('a rank 0 that does not read its input: the job still ends', async (t) => {
  const r = await dsrun(['--hosts', hosts, '-n', '2', 'examples/hello.ts'], { input: 'unread' });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, '[rank 1] hello from rank 1 of 2\n');
});
