// One test per row of the table "mpirun's options" in docs/dsrun.md.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { dsrun } from '../helpers/dsrun.ts';

t.setTimeout(600_000);

const hello = 'examples/hello.ts';
const ranksIn = (stdout: string) => stdout.split('\n').filter((l) => /hello from rank \d+ of \d+/.test(l)).length;

t.test('-n N, -np N, -c N, --np N: N ranks', async (t) => {
  for (const flag of ['-n', '-np', '-c', '--np']) {
    const r = await dsrun([flag, '2', hello]);
    t.equal(r.code, 0, r.stderr);
    t.equal(ranksIn(r.stdout), 2, flag);
    t.match(r.stdout, 'of 2\n');
  }
});

t.test('no -n: one rank per core', async (t) => {
  const r = await dsrun([hello]);
  t.equal(r.code, 0, r.stderr);
  t.equal(ranksIn(r.stdout), availableParallelism());
});

// No agent listens on port 1: the job fails to reach it, and the error names the host it was given.
t.test('-H and --host are --hosts', async (t) => {
  for (const flag of ['-H', '--host', '--hosts']) {
    const r = await dsrun([flag, '127.0.0.1:1:2', '-n', '2', hello]);
    t.not(r.code, 0, flag);
    t.match(r.stderr, /127\.0\.0\.1:1/, flag);
    t.notMatch(r.stderr, /unknown option/);
  }
});

t.test('--hostfile, -hostfile, --machinefile: a hostfile; no -n: its slots', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dsmpi-hostfile-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'hosts');
  writeFileSync(file, '# one host\n127.0.0.1:1 slots=3\n');
  for (const flag of ['--hostfile', '-hostfile', '--machinefile']) {
    const r = await dsrun([flag, file, '--verbose', hello]);
    t.not(r.code, 0, flag);
    t.match(r.stderr, /dsrun: 3 ranks of examples\/hello\.ts/, `${flag}: 3 slots, 3 ranks`);
    t.match(r.stderr, /127\.0\.0\.1:1/);
  }
});

t.test('-x VAR=value reaches every rank; standard input goes to rank 0, as processes or threads', async (t) => {
  for (const mode of [[], ['--threads']]) {
    const r = await dsrun([...mode, '-n', '2', '-x', 'DSMPI_TEST_VAR=7', 'test/fixtures/stdin-env.ts'], { input: 'to rank 0' });
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, '[rank 0] stdin "to rank 0" var 7\n', mode.join(' '));
    t.match(r.stdout, '[rank 1] stdin "" var 7\n', mode.join(' '));
  }
});

t.test('--oversubscribe: a job past the machine is refused without it, naming it', async (t) => {
  const r = await dsrun(['-n', '100000', hello]);
  t.equal(r.code, 2);
  t.match(
    r.stderr,
    /error: 100000 ranks as processes need about [\d.]+ GiB of memory \(60 MiB each\); [\d.]+ [GM]iB is available; use fewer ranks, --threads, or --oversubscribe to start anyway/,
  );
  t.equal(r.stdout, '');
  const five = await dsrun(['-n', '5', hello]);
  t.equal(five.code, 0, five.stderr);
  t.equal(five.stderr, '', '5 ranks on a small machine: silent');
});

t.test('--timeout TIME with units', async (t) => {
  const r = await dsrun(['-n', '2', '--timeout', '1500ms', 'test/fixtures/stuck.ts']);
  t.equal(r.code, 124);
  t.match(r.stderr, /timeout after 1\.5 s/);
});

t.test('--tag-output and --allow-run-as-root are accepted', async (t) => {
  const r = await dsrun(['--tag-output', '--allow-run-as-root', '-n', '2', hello]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, '[rank 1] hello from rank 1 of 2\n');
});

t.test('-v and --verbose mean verbose; -V and --version the version', async (t) => {
  for (const flag of ['-v', '--verbose']) {
    const r = await dsrun([flag, '-n', '2', '--seed', '5', hello]);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stderr, 'dsrun: 2 ranks of examples/hello.ts, seed 5\n');
    t.equal(ranksIn(r.stdout), 2);
  }
  for (const flag of ['-V', '--version']) {
    const r = await dsrun([flag]);
    t.equal(r.code, 0);
    t.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
  }
});

t.test('-N, --npernode, -npernode: ranks per host; N ranks on this machine', async (t) => {
  for (const flag of ['-N', '--npernode', '-npernode']) {
    const r = await dsrun([flag, '3', hello]);
    t.equal(r.code, 0, r.stderr);
    t.equal(ranksIn(r.stdout), 3, flag);
  }
  // On hosts: N slots on each (the agent on port 1 is not there: the job then fails to reach it).
  const hosts = await dsrun(['-N', '2', '--hosts', '127.0.0.1:1:5,127.0.0.2:1:5', '--verbose', hello]);
  t.match(hosts.stderr, /dsrun: 4 ranks of examples\/hello\.ts/, '2 per host, 2 hosts: 4 ranks');
});

t.test('--map-by, --bind-to, --mca: not supported, with the reason', async (t) => {
  for (const args of [
    ['--map-by', 'core'],
    ['--bind-to', 'none'],
    ['--mca', 'btl', 'tcp'],
  ]) {
    const r = await dsrun([...args, '-n', '2', hello]);
    t.equal(r.code, 2, args[0]);
    t.match(r.stderr, new RegExp(`^dsrun: not supported: ${args[0]}: .+\\n\\(run dsrun --help for usage\\)\\n$`));
    t.equal(r.stdout, '');
  }
});

t.test('a DSMPI_POLL other than 0 or 1 is a usage error, from -x or the environment', async (t) => {
  const r = await dsrun(['-n', '2', '-x', 'DSMPI_POLL=yes', hello]);
  t.equal(r.code, 2);
  t.match(r.stderr, /DSMPI_POLL must be 0 or 1, got 'yes'/);
  t.equal(r.stdout, '');
});
