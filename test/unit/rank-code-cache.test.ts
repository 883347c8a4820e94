// A rank process runs its bundle as a script compiled from V8's code cache (launcher/rank-main.cjs):
// the first run's rank 0 writes the cache beside the bundle, later runs use it, a cache V8 refuses
// is written again, and a changed program gets a bundle and a cache of its own. A bundle that must
// stay an ES module runs as one. Either way the program sees what `node <bundle> args` gives it.
// Rank threads (dsrun --threads) run their bundle the same way.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import t, { type Test } from 'tap';
import { bundleNodeArgs, bundleProgram } from '../../launcher/bundle.ts';
import { dsrun } from '../helpers/dsrun.ts';

/** What the programs print: their arguments, argv[1] and import.meta.url as node gives them to the bundle. */
const program = (word: string, extra = ''): string => `
await Promise.resolve();
console.log(JSON.stringify({ word: '${word}', args: process.argv.slice(2), main: process.argv[1], url: import.meta.url }));
if (process.argv[2] === 'hang') await new Promise(() => {});
${extra}
`;

/** Bundles `source` as `main.ts` in a scratch directory; removes the bundle and its cache afterwards. */
async function bundled(t: Test, dir: string, source: string, jobId: string): Promise<string> {
  writeFileSync(join(dir, 'main.ts'), source);
  const { file, remove } = await bundleProgram(join(dir, 'main.ts'), jobId);
  t.teardown(async () => {
    await remove();
    for (const end of ['', '.map', '.v8cache']) rmSync(`${file}${end}`, { force: true });
    rmSync(file.replace(/-[0-9a-f]+\.mjs$/, '.json'), { force: true });
  });
  return file;
}

const run = (file: string, args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } => {
  const r = spawnSync(process.execPath, [...bundleNodeArgs(file), ...args], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '', DSMPI_RANK: undefined, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};

const scratch = (t: Test): string => {
  const dir = mkdtempSync(join(tmpdir(), `dsmpi-code-cache-${process.pid}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

t.test('the first run writes the code cache, later runs use it, and one V8 refuses is written again', async (t) => {
  const file = await bundled(t, scratch(t), program('one'), 'cache');
  const cache = `${file}.v8cache`;
  const first = run(file, ['a', 'b c']);
  t.equal(first.status, 0, first.stderr);
  t.same(
    JSON.parse(first.stdout),
    { word: 'one', args: ['a', 'b c'], main: file, url: pathToFileURL(file).href },
    'as `node <bundle> a "b c"`',
  );
  t.ok(existsSync(cache), 'the cache is written beside the bundle');
  const written = statSync(cache).ino;

  const second = run(file, ['a', 'b c']);
  t.equal(second.stdout, first.stdout, 'the same output from the cache');
  t.equal(statSync(cache).ino, written, 'accepted by V8, so not written again');

  writeFileSync(cache, 'not a code cache');
  const third = run(file, []);
  t.equal(third.status, 0, third.stderr);
  t.not(readFileSync(cache, 'utf8'), 'not a code cache', 'a cache V8 refused is replaced');
});

t.test('only rank 0 writes the cache', async (t) => {
  const file = await bundled(t, scratch(t), program('ranks'), 'ranks');
  t.equal(run(file, [], { DSMPI_RANK: '3' }).status, 0);
  t.notOk(existsSync(`${file}.v8cache`), 'rank 3 wrote none');
  t.equal(run(file, [], { DSMPI_RANK: '0' }).status, 0);
  t.ok(existsSync(`${file}.v8cache`), 'rank 0 wrote it');
});

t.test('a changed program gets its own bundle and cache', async (t) => {
  const dir = scratch(t);
  const before = await bundled(t, dir, program('before'), 'before');
  t.equal(run(before, []).status, 0);
  const after = await bundled(t, dir, program('after'), 'after');
  t.not(after, before, 'a new bundle');
  const r = run(after, []);
  t.equal((JSON.parse(r.stdout) as { word: string }).word, 'after', r.stderr);
  t.ok(existsSync(`${after}.v8cache`), 'with a cache of its own');
});

t.test('a top-level await that never settles ends the rank with code 13, as Node.js ends an ES module', async (t) => {
  const file = await bundled(t, scratch(t), program('hang'), 'hang');
  t.equal(run(file, ['hang']).status, 13);
  t.equal(run(file, ['hang']).status, 13, 'from the cache too');
});

t.test('a bundle that must stay an ES module (it exports, reads import.meta.dirname) runs as one, without a cache', async (t) => {
  const file = await bundled(t, scratch(t), program('module', 'export const dir = import.meta.dirname;'), 'module');
  const r = run(file, ['x']);
  t.equal(r.status, 0, r.stderr);
  t.same(JSON.parse(r.stdout), { word: 'module', args: ['x'], main: file, url: pathToFileURL(file).href });
  t.notOk(existsSync(`${file}.v8cache`), 'no cache');
  t.equal(run(file, ['hang']).status, 13, 'a top-level await that never settles: code 13 there too');
});

t.test('rank threads run the bundle from the code cache too: thread rank 0 writes it', async (t) => {
  const dir = scratch(t);
  const main = join(dir, 'main.ts');
  writeFileSync(main, "import { run } from 'dsmpi';\nawait run(async (world) => world.barrier());\nconsole.log('done');\n");
  const r = await dsrun(['-n', '2', '--threads', main]);
  t.equal(r.code, 0, r.stderr);
  // The job's bundle, found again in the cache by the same program.
  const { file } = await bundleProgram(main, 'threads');
  t.teardown(() => {
    for (const end of ['', '.map', '.v8cache']) rmSync(`${file}${end}`, { force: true });
    rmSync(file.replace(/-[0-9a-f]+\.mjs$/, '.json'), { force: true });
  });
  t.ok(existsSync(`${file}.v8cache`), 'the cache is written beside the bundle');
});
