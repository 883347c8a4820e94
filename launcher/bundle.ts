import { existsSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const here = fileURLToPath(import.meta.url);

/** The dsmpi package root (where its package.json is, and its own dependencies resolve from). */
export const packageRoot = ((): string => {
  let dir = dirname(here);
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
})();

/**
 * The entry points of the dsmpi this launcher belongs to: `runtime/…/index.ts` beside launcher/ in a
 * checkout of the repository, `dist/runtime/…/index.js` in the installed package.
 */
const ownEntries: Record<string, string> = Object.fromEntries(
  Object.entries({ dsmpi: 'index', 'dsmpi/fuzz': 'sim/fuzz/index', 'dsmpi/explore': 'sim/explore/index' }).map(([name, path]) => [
    name,
    join(dirname(here), '..', 'runtime', `${path}${here.endsWith('.ts') ? '.ts' : '.js'}`),
  ]),
);

/**
 * `import 'dsmpi'` resolves as the program's own project resolves it (its node_modules, or the
 * repository's tsconfig paths); when that fails (a loose file outside any project that depends on
 * dsmpi), to the dsmpi this dsrun belongs to.
 */
const dsmpiFallback: Plugin = {
  name: 'dsmpi-fallback',
  setup(b) {
    b.onResolve({ filter: /^dsmpi(\/fuzz)?$/ }, async (args) => {
      if (args.pluginData === 'dsmpi-fallback') return undefined;
      const found = await b.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: 'dsmpi-fallback',
      });
      if (found.errors.length === 0) return { path: found.path, namespace: found.namespace, sideEffects: found.sideEffects };
      return { path: ownEntries[args.path] };
    });
  },
};

/** Packages left out of the bundle and loaded from dsmpi's node_modules (native addons, big deps). */
const EXTERNAL = ['bufferutil', 'utf-8-validate', 'msgpackr-extract'];

/** Bundles live under dsmpi's own node_modules so their few external imports resolve there. */
const bundleDir = join(packageRoot, 'node_modules', '.cache', 'dsmpi');

/** True if a process with this pid exists. */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the bundles of dsrun processes that no longer run (killed with SIGKILL, say). */
function reclaimStaleBundles(): void {
  let names: string[];
  try {
    names = readdirSync(bundleDir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = /^job-(\d+)-/.exec(name)?.[1];
    if (pid !== undefined && !running(Number(pid))) rmSync(join(bundleDir, name), { force: true });
  }
}

/**
 * Compiles the program and everything it imports into one ES module, once per job, so that no rank
 * loads a TypeScript compiler. The file is named after this dsrun's pid, so the next dsrun removes it
 * if this one is killed before it can. Returns the bundle's path and a function that removes it.
 */
export async function bundleProgram(program: string, jobId: string): Promise<{ file: string; remove: () => Promise<void> }> {
  reclaimStaleBundles();
  await mkdir(bundleDir, { recursive: true });
  const file = join(bundleDir, `job-${process.pid}-${jobId}.mjs`);
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
    plugins: [dsmpiFallback],
    logLevel: 'silent',
    // CommonJS dependencies inside an ES module bundle still need a real require().
    banner: {
      js: "import { createRequire as __dsmpiCreateRequire } from 'node:module'; const require = __dsmpiCreateRequire(import.meta.url);",
    },
  });
  return { file, remove: () => Promise.all([rm(file, { force: true }), rm(`${file}.map`, { force: true })]).then(() => {}) };
}
