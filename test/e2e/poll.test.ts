// dsrun --poll / --no-poll: the choice reaches every rank as DSMPI_POLL, by default on when the ranks
// do not outnumber the cores, and jobs give the same results polling or not (docs/dsrun.md#polling).
import { availableParallelism } from 'node:os';
import t from 'tap';
import { dsrun } from '../helpers/dsrun.ts';

// Several jobs one after another, on a machine that may be loaded.
t.setTimeout(300_000);

const polls = (stdout: string): string[] => [...stdout.matchAll(/^poll (\S+)$/gm)].map((m) => m[1]);

t.test('the default polls when every rank has a core; the flags force either way', async (t) => {
  const cases: Array<[string[], string]> = [
    [['-n', '1'], '1'],
    [['-n', '1', '-x', 'DSMPI_POLL=0'], '0'],
    [['-n', '3', '-x', 'DSMPI_POLL=0', '--poll'], '1'],
  ];
  for (const [flags, want] of cases) {
    const r = await dsrun([...flags, '-q', 'test/fixtures/poll.ts', '20']);
    t.equal(r.code, 0, r.stderr);
    const n = Number(flags[1]);
    t.same(polls(r.stdout), Array(n).fill(want), `${flags.join(' ')}: DSMPI_POLL=${want} on every rank`);
    t.match(r.stdout, `token ${20 * n} sum ${(n * (n - 1)) / 2}\n`, `${flags.join(' ')}: the ring and the allreduce complete`);
  }
});

t.test(
  'more ranks than cores: no polling unless forced',
  { skip: availableParallelism() > 8 && 'a machine of more than 8 cores' },
  async (t) => {
    const n = availableParallelism() + 1;
    const r = await dsrun(['-n', String(n), '-q', 'test/fixtures/poll.ts', '5']);
    t.equal(r.code, 0, r.stderr);
    t.same(polls(r.stdout), Array(n).fill('0'));
  },
);

t.test('--threads: the threads see the choice in their environment', async (t) => {
  const r = await dsrun(['-n', '2', '--threads', '--no-poll', '-q', 'test/fixtures/poll.ts', '5']);
  t.equal(r.code, 0, r.stderr);
  t.same(polls(r.stdout), ['0', '0']);
});

t.test('dsrun --help lists --poll and --no-poll', async (t) => {
  const help = await dsrun(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /--poll\s+ranks poll for messages/);
  t.match(help.stdout, /--no-poll\s+ranks sleep while they wait/);
});
