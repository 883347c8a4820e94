// dsrun in a checkout of the repository: the launcher's TypeScript (launcher/cli.ts and what it
// imports) compiled into one ES module and cached, named after a hash of the contents of those
// sources, so dsrun starts without loading a TypeScript compiler, and compiles again only when a
// source changed. The ranks' programs are bundled the same way (launcher/bundle.ts). Dependencies
// stay outside the bundle and load from node_modules, where the bundle lives.
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { contentHash, writeWhole } from './cache-files.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = join(root, 'node_modules', '.cache', 'dsmpi');
/** Names the sources that went into the newest launcher bundle. */
const manifest = join(cacheDir, 'launcher.json');
/** A launcher bundle unused this long is removed when the launcher is compiled again. */
const STALE_MS = 24 * 3600 * 1000;

const bundleFile = (hash) => join(cacheDir, `launcher-${hash}.mjs`);

/**
 * The cached bundle, if no source that went into it has changed. A manifest naming sources outside
 * this checkout (node_modules copied from another one) is another checkout's launcher: not a hit.
 */
async function cached() {
  try {
    const { inputs } = JSON.parse(await readFile(manifest, 'utf8'));
    if (!inputs.every((input) => input.startsWith(root + sep))) return undefined;
    const hash = await contentHash(inputs);
    return hash !== undefined && existsSync(bundleFile(hash)) ? bundleFile(hash) : undefined;
  } catch {
    return undefined;
  }
}

/** Removes launcher bundles other than `keep` not used for a day. */
function pruneOthers(keep) {
  for (const name of readdirSync(cacheDir)) {
    const path = join(cacheDir, name);
    if (!name.startsWith('launcher-') || path === keep) continue;
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
    outfile: join(cacheDir, 'launcher.mjs'),
    write: false,
    metafile: true,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs).map((input) => resolve(input));
  const hash = await contentHash(inputs);
  if (hash === undefined) throw new Error('dsrun: a launcher source was removed while it was being compiled; run it again');
  await mkdir(cacheDir, { recursive: true });
  const file = bundleFile(hash);
  await writeWhole(file, result.outputFiles[0].contents);
  await writeWhole(manifest, JSON.stringify({ inputs }));
  pruneOthers(file);
  return file;
}
