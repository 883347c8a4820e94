import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import { dsrun, root } from '../helpers/dsrun.ts';

const expected = ['after run', 'second run: DS_ERR_INVALID_ARGUMENT'];

t.test('under dsrun (processes): code after run() runs on every rank; a second run() throws', async (t) => {
  const r = await dsrun(['-n', '3', '--quiet', 'test/fixtures/after-run.ts']);
  t.equal(r.code, 0, r.stderr);
  t.same(r.stdout.split('\n').filter(Boolean).sort(), [...expected, ...expected, ...expected].sort());
});

t.test('under dsrun --threads: the same', async (t) => {
  const r = await dsrun(['-n', '2', '--threads', '--quiet', 'test/fixtures/after-run.ts']);
  t.equal(r.code, 0, r.stderr);
  t.same(r.stdout.split('\n').filter(Boolean).sort(), [...expected, ...expected].sort());
});

t.test('without dsrun (tsx, a job of one rank): the same', async (t) => {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'test/fixtures/after-run.ts'], {
    cwd: root,
    env,
    timeout: 30_000,
  });
  t.same(stdout.split('\n').filter(Boolean), expected);
});
