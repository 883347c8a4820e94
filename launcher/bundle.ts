import { mkdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The dsmpi package root (where its own dependencies resolve from). */
export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Packages left out of the bundle and loaded from dsmpi's node_modules (native addons, big deps). */
const EXTERNAL = ['bufferutil', 'utf-8-validate', 'msgpackr-extract'];

/**
 * Compiles the program and everything it imports into one ES module, once per job, so that no rank
 * loads a TypeScript compiler. It is written under dsmpi's own node_modules so its few external
 * imports resolve there. Returns the bundle's path and a function that removes it.
 */
export async function bundleProgram(program: string, jobId: string): Promise<{ file: string; remove: () => Promise<void> }> {
  const dir = join(packageRoot, 'node_modules', '.cache', 'dsmpi');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `job-${jobId}.mjs`);
  await build({
    entryPoints: [program],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    sourcesContent: false,
    external: EXTERNAL,
    logLevel: 'silent',
    // CommonJS dependencies inside an ES module bundle still need a real require().
    banner: {
      js: "import { createRequire as __dsmpiCreateRequire } from 'node:module'; const require = __dsmpiCreateRequire(import.meta.url);",
    },
  });
  return { file, remove: () => Promise.all([rm(file, { force: true }), rm(`${file}.map`, { force: true })]).then(() => {}) };
}
