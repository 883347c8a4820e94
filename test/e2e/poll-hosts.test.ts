// dsrun --hosts: whether ranks poll is decided per host, from the cores its agent reports, unless
// --poll/--no-poll decide for all (docs/dsrun.md#polling).
import { availableParallelism } from 'node:os';
import t from 'tap';
import { startAgent } from '../../launcher/agent.ts';
import { dsrun } from '../helpers/dsrun.ts';

// Several jobs one after another, on a machine that may be loaded.
t.setTimeout(300_000);

const polls = (stdout: string): string[] => [...stdout.matchAll(/^poll (\S+)$/gm)].map((m) => m[1]);

t.test('--hosts: each host decides from the cores its agent reports', async (t) => {
  const secret = `poll-secret-${process.pid}`;
  process.env.DSMPI_SECRET = secret;
  const agent = await startAgent({ host: '127.0.0.1', port: 0, secret, log: () => {} });
  t.teardown(() => agent.close());
  const port = new URL(agent.url).port;
  const one = await dsrun(['--hosts', `127.0.0.1:${port}:1`, '-q', 'test/fixtures/poll.ts', '5']);
  t.equal(one.code, 0, one.stderr);
  t.same(polls(one.stdout), ['1'], 'one rank on a host with a core for it');
  const n = availableParallelism() + 1;
  if (n <= 9) {
    const many = await dsrun(['--hosts', `127.0.0.1:${port}:${n}`, '-q', 'test/fixtures/poll.ts', '5']);
    t.equal(many.code, 0, many.stderr);
    t.same(polls(many.stdout), Array(n).fill('0'), 'more ranks than the host has cores');
  }
  const forced = await dsrun(['--hosts', `127.0.0.1:${port}:1`, '--no-poll', '-q', 'test/fixtures/poll.ts', '5']);
  t.equal(forced.code, 0, forced.stderr);
  t.same(polls(forced.stdout), ['0'], '--no-poll holds on every host');
});
