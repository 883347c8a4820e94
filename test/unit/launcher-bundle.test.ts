// dsrun in a checkout runs the launcher compiled into a cached bundle (launcher/launcher-bundle.mjs):
// compiled on first use, reused while no source of it changes, compiled again when one does. Shown
// on a small stand-in launcher in a scratch copy of the layout (launcher/ beside node_modules/).
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { packageRoot } from '../../launcher/package-root.ts';

/** The launcher's bundler and what it imports, copied into the scratch layout at `root`. */
const copyLauncherBundler = (root: string): void => {
  for (const file of ['launcher-bundle.mjs', 'cache-files.mjs'])
    copyFileSync(join(packageRoot, 'launcher', file), join(root, 'launcher', file));
};

t.test('the launcher bundle is reused until one of its sources changes', async (t) => {
  // Under the repository's node_modules, so that esbuild resolves from the scratch copy.
  const root = mkdtempSync(join(packageRoot, 'node_modules', '.cache', `launcher-bundle-test-${process.pid}-`));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'launcher'));
  mkdirSync(join(root, 'node_modules'));
  copyLauncherBundler(root);
  const entry = join(root, 'launcher', 'cli.ts');
  const helper = join(root, 'launcher', 'word.ts');
  writeFileSync(entry, "import { word } from './word.ts';\nexport const main = (): string => word;\n");
  writeFileSync(helper, "export const word: string = 'first';\n");
  const { launcherBundle } = (await import(pathToFileURL(join(root, 'launcher', 'launcher-bundle.mjs')).href)) as {
    launcherBundle: (entry: string) => Promise<string>;
  };
  const run = async (file: string): Promise<string> =>
    ((await import(`${pathToFileURL(file).href}?${Date.now()}`)) as { main: () => string }).main();

  const first = await launcherBundle(entry);
  t.ok(first.startsWith(join(root, 'node_modules', '.cache', 'dsmpi')), 'cached under node_modules/.cache/dsmpi');
  t.equal(await run(first), 'first');
  t.equal(await launcherBundle(entry), first, 'unchanged sources: the same bundle');
  writeFileSync(helper, "export const word: string = 'second';\n");
  const changed = await launcherBundle(entry);
  t.not(changed, first, 'an import changed: a new bundle');
  t.equal(await run(changed), 'second');
  t.ok(existsSync(first), 'the older bundle stays until it has not been used for a day');
});

t.test('a launcher source that does not compile is reported, and nothing is cached', async (t) => {
  const root = mkdtempSync(join(packageRoot, 'node_modules', '.cache', `launcher-bundle-test-${process.pid}-`));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'launcher'));
  copyLauncherBundler(root);
  const entry = join(root, 'launcher', 'cli.ts');
  writeFileSync(entry, 'export const main = (: string => 1;\n');
  const { launcherBundle } = (await import(pathToFileURL(join(root, 'launcher', 'launcher-bundle.mjs')).href)) as {
    launcherBundle: (entry: string) => Promise<string>;
  };
  await t.rejects(launcherBundle(entry), /cli\.ts/, 'the error names the file');
  t.notOk(existsSync(join(root, 'node_modules', '.cache', 'dsmpi', 'launcher.json')), 'no manifest written');
});

t.test('a cache copied from another checkout (node_modules copied whole) runs this checkout’s launcher, not the other’s', async (t) => {
  const scratch = (): string => {
    const root = mkdtempSync(join(packageRoot, 'node_modules', '.cache', `launcher-bundle-test-${process.pid}-`));
    t.teardown(() => rmSync(root, { recursive: true, force: true }));
    mkdirSync(join(root, 'launcher'));
    mkdirSync(join(root, 'node_modules'));
    copyLauncherBundler(root);
    return root;
  };
  const [other, own] = [scratch(), scratch()];
  for (const [root, word] of [
    [other, 'other'],
    [own, 'own'],
  ])
    writeFileSync(join(root, 'launcher', 'cli.ts'), `export const main = (): string => '${word}';\n`);
  const bundler = async (root: string): Promise<(entry: string) => Promise<string>> =>
    (
      (await import(pathToFileURL(join(root, 'launcher', 'launcher-bundle.mjs')).href)) as {
        launcherBundle: (entry: string) => Promise<string>;
      }
    ).launcherBundle;
  await (
    await bundler(other)
  )(join(other, 'launcher', 'cli.ts'));
  cpSync(join(other, 'node_modules'), join(own, 'node_modules'), { recursive: true });
  const bundle = await (await bundler(own))(join(own, 'launcher', 'cli.ts'));
  t.ok(bundle.startsWith(join(own, 'node_modules')), 'the bundle is in this checkout’s cache');
  t.equal(((await import(pathToFileURL(bundle).href)) as { main: () => string }).main(), 'own', 'compiled from this checkout’s sources');
});
