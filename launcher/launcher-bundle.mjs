// dsrun in a checkout of the repository: the launcher's TypeScript (launcher/cli.ts and what it
// imports, with its dependencies but native ones and esbuild) compiled into one CommonJS script and
// cached, named after a hash of the contents of its sources, so dsrun starts without loading a
// TypeScript compiler and compiles again only when a source changed. The ranks' programs are bundled
// the same way (launcher/bundle.ts). The script runs with V8's code cache, as the ranks' bundles do
// (launcher/rank-main.cjs): Node.js's ES module loader resolved, read and scanned commander, ws,
// msgpackr and nanoid file by file at every start, and V8 compiled them again each time.
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { currentHash, writeWhole } from './cache-files.mjs';
import { compileWithCodeCache } from './code-cache.cjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = join(root, 'node_modules', '.cache', 'dsmpi');
/** Names the sources that went into the newest launcher bundle, their content hash and stamp (cache-files.mjs). */
const manifest = join(cacheDir, 'launcher.json');
/** A launcher bundle unused this long is removed when the launcher is compiled again. */
const STALE_MS = 24 * 3600 * 1000;
/** Packages loaded from node_modules rather than bundled: native addons, and esbuild, loaded only to compile. */
const EXTERNAL = ['esbuild', 'bufferutil', 'utf-8-validate', 'msgpackr-extract'];

const bundleFile = (hash) => join(cacheDir, `launcher-${hash}.cjs`);

/**
 * The cached bundle, if no source that went into it has changed. A manifest naming sources outside
 * this checkout (node_modules copied from another one) is another checkout's launcher: not a hit.
 */
async function cached() {
  try {
    const known = JSON.parse(await readFile(manifest, 'utf8'));
    const { inputs } = known;
    if (!inputs.every((input) => input.startsWith(root + sep))) return undefined;
    const { hash, stamp } = await currentHash(inputs, known);
    if (hash === undefined || !existsSync(bundleFile(hash))) return undefined;
    // Sources touched but not changed (a checkout): their new stamp spares the next dsrun reading them.
    if (stamp !== known.stamp) await writeWhole(manifest, JSON.stringify({ inputs, hash, stamp }));
    return bundleFile(hash);
  } catch {
    return undefined;
  }
}

/** Removes launcher bundles other than `keep` not used for a day. */
function pruneOthers(keep) {
  for (const name of readdirSync(cacheDir)) {
    const path = join(cacheDir, name);
    if (!name.startsWith('launcher-') || path.startsWith(keep)) continue;
    try {
      if (Date.now() - statSync(path).atimeMs > STALE_MS) rmSync(path, { force: true });
    } catch {
      // Removed meanwhile by another dsrun.
    }
  }
}

/** The path of the launcher compiled from `entry` (launcher/cli.ts), compiling it if it changed. */
export async function launcherBundle(entry) {
  const hit = await cached();
  if (hit) return hit;
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [entry],
    outfile: join(cacheDir, 'launcher.cjs'),
    write: false,
    metafile: true,
    bundle: true,
    external: EXTERNAL,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // import('esbuild') becomes a require(): a script compiled from the code cache has no import().
    supported: { 'dynamic-import': false },
    // The sources find the package from their own URL: the bundle's, given by loadLauncher().
    define: { 'import.meta.url': '__dsmpiImportMetaUrl' },
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs).map((input) => resolve(input));
  const { hash, stamp } = await currentHash(inputs, undefined);
  if (hash === undefined) throw new Error('dsrun: a launcher source was removed while it was being compiled; run it again');
  await mkdir(cacheDir, { recursive: true });
  const file = bundleFile(hash);
  await writeWhole(file, result.outputFiles[0].contents);
  await writeWhole(manifest, JSON.stringify({ inputs, hash, stamp }));
  pruneOthers(file);
  return file;
}

/**
 * Runs the launcher bundle `file` and returns its exports: compiled with the code cache beside it
 * (`<file>.v8cache`), which is written when dsrun exits if there was none V8 accepted, so that it
 * holds every function this dsrun ran.
 */
export function loadLauncher(file) {
  const url = pathToFileURL(file).href;
  const script = compileWithCodeCache(
    `(function (exports, require, module, __filename, __dirname, __dsmpiImportMetaUrl) {${readFileSync(file, 'utf8')}\n})`,
    url,
    `${file}.v8cache`,
    true,
  );
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(url), module, file, dirname(file), url);
  return module.exports;
}
