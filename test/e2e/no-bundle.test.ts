// --no-bundle leaves `import 'dsmpi'` to Node: a loose file outside any project with dsmpi is
// refused before any rank starts, saying what to do; a project that has dsmpi runs as usual.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { dsrun } from '../helpers/dsrun.ts';

const dir = mkdtempSync(join(tmpdir(), 'dsmpi-no-bundle-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('a loose file that imports dsmpi: a clear error, exit 2', async (t) => {
  const file = join(dir, 'loose.ts');
  writeFileSync(file, "import { run } from 'dsmpi';\nawait run(async (world) => console.log(world.rank));\n");
  const r = await dsrun(['--no-bundle', '-n', '2', file]);
  t.equal(r.code, 2);
  t.match(r.stderr, /--no-bundle: .*loose\.ts imports dsmpi, but no project around it has dsmpi/);
  t.match(r.stderr, /Run it without --no-bundle/);
  t.equal(r.stdout, '');
  const bundled = await dsrun(['-n', '2', file]);
  t.equal(bundled.code, 0, `without --no-bundle it runs: ${bundled.stderr}`);
});

t.test('a loose file that does not import dsmpi runs with --no-bundle, TypeScript and all', async (t) => {
  const file = join(dir, 'plain.ts');
  writeFileSync(file, 'const n: number = 6 * 7;\nconsole.log(`answer ${n}`);\n');
  const r = await dsrun(['--no-bundle', '-n', '1', file]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, '[rank 0] answer 42\n');
});

t.test('in this repository, --no-bundle runs an example', async (t) => {
  const r = await dsrun(['--no-bundle', '-n', '2', 'examples/hello.ts']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, '[rank 1] hello from rank 1 of 2\n');
});
