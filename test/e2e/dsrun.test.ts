import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { alive, dsrun, dsrunBin, root } from '../helpers/dsrun.ts';

t.test('hello: every rank prints with its prefix, exit 0', async (t) => {
  const r = await dsrun(['-n', '4', 'examples/hello.ts']);
  t.equal(r.code, 0, r.stderr);
  for (let i = 0; i < 4; i++) t.match(r.stdout, `[rank ${i}] hello from rank ${i} of 4\n`);
  t.match(r.stdout, '[rank 0] sum of ranks = 6\n');
});

t.test('ring: the token goes round k times; --quiet drops prefixes; arguments reach the program', async (t) => {
  const r = await dsrun(['-n', '5', '--quiet', 'examples/ring.ts', '2']);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, 'lap 1: token = 5\nlap 2: token = 10\n');
});

t.test("an uncaught error aborts the job with that rank's message, stack and exit code", async (t) => {
  const r = await dsrun(['-n', '3', 'test/fixtures/throws.ts']);
  t.equal(r.code, 1);
  t.match(r.stderr, /dsrun: rank 1 failed \(exit code 1\): Error: boom on purpose/);
  t.match(r.stderr, /throws\.ts:\d+/, 'the stack points into the TypeScript source');
});

t.test('abort(code) ends the job with that code', async (t) => {
  const r = await dsrun(['-n', '3', 'test/fixtures/aborts.ts']);
  t.equal(r.code, 3);
  t.match(r.stderr, /rank 2 failed \(exit code 3\): rank 2: giving up on purpose/);
});

t.test('--timeout reports what each rank is blocked on, then exits 124', async (t) => {
  // 10 s, not less: the report is taken once, and every rank must have started and reached its recv
  // by then, on a loaded machine too.
  const r = await dsrun(['-n', '3', '--timeout', '10', 'test/fixtures/stuck.ts']);
  t.equal(r.code, 124);
  for (let i = 0; i < 3; i++) t.match(r.stderr, new RegExp(`rank ${i}: recv\\(source=${(i + 1) % 3}, tag=5\\) for \\d+\\.\\d s`));
});

t.test('dsrun --help into a reader that stops at once (| head): exit 0, no stack trace', async (t) => {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, [dsrunBin, '--help'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const [code] = await once(child, 'exit');
  t.equal(code, 0);
  t.equal(stderr, '');
});

t.test('a rank killed mid-run: the job aborts cleanly and leaves no process behind', async (t) => {
  const pids: number[] = [];
  const r = await dsrun(['-n', '3', 'test/fixtures/killable.ts'], {
    onLine: (line) => {
      const m = /^\[rank (\d)\] pid (\d+)$/.exec(line);
      if (!m) return;
      pids[Number(m[1])] = Number(m[2]);
      if (pids.filter(Boolean).length === 3) process.kill(pids[1], 'SIGKILL');
    },
  });
  t.equal(r.code, 137, 'exit code of a rank killed by SIGKILL');
  t.match(r.stderr, /rank 1 failed \(exit code 137\): killed by SIGKILL/);
  t.same(pids.filter(alive), [], 'no rank is left running');
});

t.test('stray connections with a wrong token or garbage are refused; the job completes', async (t) => {
  const r = await dsrun(['-n', '2', 'test/fixtures/stray-connections.ts']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, '[rank 0] peer refused with 401');
  t.match(r.stdout, '[rank 0] launcher refused with 401');
  t.match(r.stdout, '[rank 0] garbage answered with HTTP/1.1 400 Bad Request');
  t.match(r.stdout, "[rank 0] peer's Unix socket refused with 401");
  t.match(r.stdout, '[rank 0] garbage on the Unix socket answered with HTTP/1.1 400 Bad Request');
  t.match(r.stdout, '[rank 1] job still fine');
  t.match(r.stderr, /refused a connection from 127\.0\.0\.1: no dsmpi handshake/);
  t.match(r.stderr, /refused a connection from local: no dsmpi handshake/);
});

t.test('bad usage: one-line error and a usage hint, exit 2', async (t) => {
  for (const args of [
    ['-n', '0', 'examples/hello.ts'],
    ['-n', '2', 'no/such/file.ts'],
    ['--bogus', '-n', '2', 'examples/hello.ts'],
  ]) {
    const r = await dsrun(args);
    t.equal(r.code, 2, `exit 2 for ${args.join(' ')}`);
    t.match(r.stderr, /error|cannot find/i);
    t.equal(r.stdout, '');
  }
  const help = await dsrun(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /Usage: dsrun \[-n N\] \[options\] program \[args\.\.\.\]/);
  t.match(help.stdout, /dsrun agent --listen/, 'the other commands are listed: agent');
  t.match(help.stdout, /dsrun rendezvous/, 'and rendezvous');
  t.match(help.stdout, /--timeout <time>/);
  const version = await dsrun(['--version']);
  t.equal(version.code, 0);
  t.match(version.stdout, /^\d+\.\d+\.\d+/);
});
