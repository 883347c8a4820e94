// Process ranks that one launcher starts on a host link over Unix sockets in a directory of the job's
// own (launcher/local-links.ts): private to the user, shared by the ranks of dsrun (or of an agent),
// gone when the job ends; -x DSMPI_LOCAL_LINKS= keeps them on TCP.
import { existsSync } from 'node:fs';
import t from 'tap';
import { startAgent } from '../../launcher/agent.ts';
import { dsrun } from '../helpers/dsrun.ts';

/** Each rank's line `links <dir> mode <mode> unix <yes|no>` (test/fixtures/local-links.ts), by rank. */
function linkLines(stdout: string): Array<{ dir: string; mode: string; unix: string }> {
  const lines: Array<{ dir: string; mode: string; unix: string }> = [];
  for (const m of stdout.matchAll(/^\[rank (\d+)\] links (\S+) mode (\S+) unix (\S+)$/gm)) {
    lines[Number(m[1])] = { dir: m[2], mode: m[3], unix: m[4] };
  }
  return lines;
}

t.test('dsrun: the ranks share a private directory of sockets, removed at the end of the job', async (t) => {
  // A directory named in dsrun's own environment (a dsrun started by a rank) is not reused.
  process.env.DSMPI_LOCAL_LINKS = '/nonexistent/of-another-job';
  t.teardown(() => delete process.env.DSMPI_LOCAL_LINKS);
  const r = await dsrun(['-n', '3', 'test/fixtures/local-links.ts']);
  t.equal(r.code, 0, r.stderr);
  const lines = linkLines(r.stdout);
  t.equal(lines.length, 3);
  t.equal(new Set(lines.map((l) => l.dir)).size, 1, 'one directory for the job');
  t.not(lines[0].dir, '/nonexistent/of-another-job');
  t.same(
    lines.map((l) => [l.mode, l.unix]),
    [
      ['700', 'yes'],
      ['700', 'yes'],
      ['700', 'yes'],
    ],
    'only its user may enter it; every rank listens there',
  );
  t.match(r.stdout, '[rank 0] got 2');
  t.notOk(existsSync(lines[0].dir), 'the directory is gone after the job');
  t.equal(r.stderr, '', 'no warning');
});

t.test('dsrun -x DSMPI_LOCAL_LINKS= keeps every link on TCP', async (t) => {
  const r = await dsrun(['-n', '2', '-x', 'DSMPI_LOCAL_LINKS=', 'test/fixtures/local-links.ts']);
  t.equal(r.code, 0, r.stderr);
  t.same(
    linkLines(r.stdout).map((l) => [l.dir, l.unix]),
    [
      ['-', 'no'],
      ['-', 'no'],
    ],
  );
  t.match(r.stdout, '[rank 1] got 0');
});

t.test("an agent's ranks share a directory of the agent's, removed when the job ends", async (t) => {
  const logs: string[] = [];
  const agent = await startAgent({ host: '127.0.0.1', port: 0, secret: '', log: (line) => logs.push(line) });
  t.teardown(() => agent.close());
  const port = Number(new URL(agent.url).port);
  const r = await dsrun(['-n', '2', '--hosts', `127.0.0.1:${port}:2`, 'test/fixtures/local-links.ts']);
  t.equal(r.code, 0, r.stderr);
  const lines = linkLines(r.stdout);
  t.equal(lines[0]?.dir, lines[1]?.dir, 'the two ranks on the host share one');
  t.same([lines[0].mode, lines[0].unix, lines[1].unix], ['700', 'yes', 'yes']);
  t.match(r.stdout, '[rank 0] got 1');
  // The agent removes it once the job's ranks have exited, after dsrun has its results.
  const deadline = Date.now() + 20_000;
  while (!logs.some((l) => / ended$/.test(l)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  t.ok(
    logs.some((l) => / ended$/.test(l)),
    'the agent ended the job',
  );
  t.notOk(existsSync(lines[0].dir), 'the directory is gone after the job');
});
