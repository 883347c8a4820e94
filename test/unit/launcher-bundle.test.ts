// dsrun in a checkout runs the launcher compiled into a cached bundle (launcher/launcher-bundle.mjs):
// compiled on first use, reused while no source of it changes, compiled again when one does, and run
// with V8's code cache. Shown on a small stand-in launcher in a scratch copy of the layout (launcher/
// beside node_modules/).
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import t, { type Test } from 'tap';
import { packageRoot } from '../../launcher/package-root.ts';

/**
 * A scratch checkout under the repository's node_modules (so that esbuild resolves from it), with the
 * launcher's bundler and what it imports copied in; removed when `t` ends.
 */
const scratchCheckout = (t: Test): string => {
  const root = mkdtempSync(join(packageRoot, 'node_modules', '.cache', `launcher-bundle-test-${process.pid}-`));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'launcher'));
  mkdirSync(join(root, 'node_modules'));
  for (const file of ['launcher-bundle.mjs', 'cache-files.mjs', 'code-cache.cjs'])
    copyFileSync(join(packageRoot, 'launcher', file), join(root, 'launcher', file));
  return root;
};

/** The bundler of the scratch layout at `root`. */
const bundler = async (
  root: string,
): Promise<{ launcherBundle: (entry: string) => Promise<string>; loadLauncher: (file: string) => unknown }> =>
  (await import(pathToFileURL(join(root, 'launcher', 'launcher-bundle.mjs')).href)) as {
    launcherBundle: (entry: string) => Promise<string>;
    loadLauncher: (file: string) => unknown;
  };

t.test('the launcher bundle is reused until one of its sources changes', async (t) => {
  const root = scratchCheckout(t);
  const entry = join(root, 'launcher', 'cli.ts');
  const helper = join(root, 'launcher', 'word.ts');
  writeFileSync(entry, "import { word } from './word.ts';\nexport const main = (): string => word;\n");
  writeFileSync(helper, "export const word: string = 'first';\n");
  const { launcherBundle, loadLauncher } = await bundler(root);
  const run = (file: string): string => (loadLauncher(file) as { main: () => string }).main();

  const first = await launcherBundle(entry);
  t.ok(first.startsWith(join(root, 'node_modules', '.cache', 'dsmpi')), 'cached under node_modules/.cache/dsmpi');
  t.equal(run(first), 'first');
  t.equal(await launcherBundle(entry), first, 'unchanged sources: the same bundle');
  writeFileSync(helper, "export const word: string = 'second';\n");
  // A whole second: set again exactly below.
  utimesSync(helper, 1_000_000_000, 1_000_000_000);
  const changed = await launcherBundle(entry);
  t.not(changed, first, 'an import changed: a new bundle');
  t.equal(run(changed), 'second');
  t.ok(existsSync(first), 'the older bundle stays until it has not been used for a day');
  // Same size and time of change of contents, other contents: the file's own change time tells.
  writeFileSync(helper, "export const word: string = 'thirdd';\n");
  utimesSync(helper, 1_000_000_000, 1_000_000_000);
  const third = await launcherBundle(entry);
  t.not(third, changed, 'contents changed behind an unchanged size and modification time: a new bundle');
  t.equal(run(third), 'thirdd');
  writeFileSync(helper, "export const word: string = 'thirdd';\n");
  t.equal(await launcherBundle(entry), third, 'written again unchanged: the same bundle');
  const { stamp } = JSON.parse(readFileSync(join(root, 'node_modules', '.cache', 'dsmpi', 'launcher.json'), 'utf8')) as { stamp: string };
  t.equal(await launcherBundle(entry), third);
  t.equal(
    (JSON.parse(readFileSync(join(root, 'node_modules', '.cache', 'dsmpi', 'launcher.json'), 'utf8')) as { stamp: string }).stamp,
    stamp,
    'the manifest holds the stamp of the sources as they are now',
  );
});

t.test('the launcher runs with the code cache its first run writes, and sees its bundle as import.meta.url', async (t) => {
  const root = scratchCheckout(t);
  const entry = join(root, 'launcher', 'cli.ts');
  writeFileSync(entry, 'export const main = (): string => import.meta.url;\n');
  const bundle = await (await bundler(root)).launcherBundle(entry);
  // As dsrun.mjs does, in a process of its own: the cache is written as that process exits.
  const dsrun = (): string => {
    const script = `const m = await import(${JSON.stringify(pathToFileURL(join(root, 'launcher', 'launcher-bundle.mjs')).href)});
console.log(m.loadLauncher(await m.launcherBundle(${JSON.stringify(entry)})).main());`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    t.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  const cache = `${bundle}.v8cache`;
  t.notOk(existsSync(cache), 'no cache before the first run');
  t.equal(dsrun(), pathToFileURL(bundle).href, 'import.meta.url is the bundle’s');
  t.ok(existsSync(cache), 'the first run wrote the cache');
  const written = statSync(cache).mtimeMs;
  t.equal(dsrun(), pathToFileURL(bundle).href);
  t.equal(statSync(cache).mtimeMs, written, 'a cache V8 accepts is not written again');
  writeFileSync(cache, 'not a code cache');
  t.equal(dsrun(), pathToFileURL(bundle).href, 'a cache V8 refuses does not stop the launcher');
  t.not(readFileSync(cache, 'utf8'), 'not a code cache', 'and is written again');
});

t.test('a launcher source that does not compile is reported, and nothing is cached', async (t) => {
  const root = scratchCheckout(t);
  const entry = join(root, 'launcher', 'cli.ts');
  writeFileSync(entry, 'export const main = (: string => 1;\n');
  const { launcherBundle } = await bundler(root);
  await t.rejects(launcherBundle(entry), /cli\.ts/, 'the error names the file');
  t.notOk(existsSync(join(root, 'node_modules', '.cache', 'dsmpi', 'launcher.json')), 'no manifest written');
});

t.test('a cache copied from another checkout (node_modules copied whole) runs this checkout’s launcher, not the other’s', async (t) => {
  const [other, own] = [scratchCheckout(t), scratchCheckout(t)];
  for (const [root, word] of [
    [other, 'other'],
    [own, 'own'],
  ])
    writeFileSync(join(root, 'launcher', 'cli.ts'), `export const main = (): string => '${word}';\n`);
  await (await bundler(other)).launcherBundle(join(other, 'launcher', 'cli.ts'));
  cpSync(join(other, 'node_modules'), join(own, 'node_modules'), { recursive: true });
  const { launcherBundle, loadLauncher } = await bundler(own);
  const bundle = await launcherBundle(join(own, 'launcher', 'cli.ts'));
  t.ok(bundle.startsWith(join(own, 'node_modules')), 'the bundle is in this checkout’s cache');
  t.equal((loadLauncher(bundle) as { main: () => string }).main(), 'own', 'compiled from this checkout’s sources');
});
