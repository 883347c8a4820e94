import { createHash } from 'node:crypto';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { builtinModules, createRequire } from 'node:module';
import type { BuildOptions, Metafile, Plugin } from 'esbuild';
import { currentHash, writeWhole } from './cache-files.mjs';
import { fromSources, packageFile, packageRoot } from './package-root.ts';

/**
 * The entry points of the dsmpi this launcher belongs to: `runtime/…/index.ts` beside launcher/ in a
 * checkout of the repository, `dist/runtime/…/index.js` in the installed package.
 */
const ownEntries: Record<string, string> = Object.fromEntries(
  Object.entries({ dsmpi: 'index', 'dsmpi/fuzz': 'sim/fuzz/index', 'dsmpi/explore': 'sim/explore/index' }).map(([name, path]) => [
    name,
    packageFile(`runtime/${path}${fromSources ? '.ts' : '.js'}`),
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

/** The namespace of the modules lazyBuiltins makes; they name no file, so no bundle's inputs hold them. */
const LAZY_BUILTIN = 'lazy-builtin';

/**
 * Built-in modules that a process rank's WebSocket code (the `ws` library, ws-server.ts) imports but
 * uses only for TLS (https, tls) or compression (zlib, which dsmpi turns off): they load at the first
 * use of one of their exports, not when the code importing them runs (about 10 ms of CPU per rank).
 */
const ON_FIRST_USE = new Set(['https', 'tls', 'zlib']);

/**
 * A module standing for `name` that requires it at the first read of an export. Its export names,
 * which an ES module import copies at once, are this Node.js's (the bundle's key holds its version).
 */
function onFirstUse(name: string): string {
  const names = Object.getOwnPropertyNames(createRequire(import.meta.url)(`node:${name}`));
  return `let loaded;
const load = () => (loaded ??= require(${JSON.stringify(`node:${name}`)}));
const names = ${JSON.stringify(names)};
module.exports = new Proxy({}, {
  get: (_, key) => load()[key],
  has: (_, key) => key in load(),
  ownKeys: () => names,
  getOwnPropertyDescriptor: (_, key) => (names.includes(key) ? { value: undefined, writable: true, enumerable: true, configurable: true } : undefined),
});`;
}

/** Built-in modules by their bare names (`stream`, `fs/promises`), which Node.js resolves before any package's. */
const bareBuiltin = new RegExp(`^(${builtinModules.join('|')})$`);

/**
 * Node.js's built-in modules are required when the module importing them first runs, not all when
 * the bundle starts: an ES module bundle hoists every import of an external module to its top, so the
 * modules of dsmpi's code loaded only with import() (the WebSocket transport, never run by a rank
 * thread) made every rank load node:http, node:https and node:crypto anyway. Those of ON_FIRST_USE
 * wait further, for their first use. Bare names too (`ws` requires them so, msgpackr imports
 * `stream`): with no import statement left, the bundle can run as a script (runsAsScript).
 */
const lazyBuiltins: Plugin = {
  name: 'lazy-builtins',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) =>
      args.namespace === LAZY_BUILTIN ? { path: args.path, external: true } : { path: args.path, namespace: LAZY_BUILTIN },
    );
    b.onResolve({ filter: bareBuiltin }, (args) => ({ path: `node:${args.path}`, namespace: LAZY_BUILTIN }));
    b.onLoad({ filter: /.*/, namespace: LAZY_BUILTIN }, (args) => {
      const name = args.path.slice('node:'.length);
      return {
        contents: ON_FIRST_USE.has(name) ? onFirstUse(name) : `module.exports = require(${JSON.stringify(args.path)});`,
        loader: 'js',
      };
    });
  },
};

/**
 * `ws` requires `bufferutil` (a native addon, found through node-gyp-build's search of its prebuilt
 * binaries: 5–10 ms of CPU per rank) when it is loaded, to mask and unmask frames of 32 bytes or more.
 * Rank links mask with a zero key, which ws skips; only control frames are masked, and those are
 * short. So the bundle has a stand-in that masks frames shorter than NATIVE_MASK_BYTES in JavaScript
 * and requires `bufferutil` for the first longer one; where it is not installed (an optional
 * dependency), in JavaScript too, as ws does without it.
 */
const NATIVE_MASK_BYTES = 256;

/** The namespace of the stand-in for `bufferutil`. */
const LAZY_ADDON = 'lazy-addon';

/** What the bundle has for `bufferutil` (part of the bundle's key in the cache). */
const bufferutilStandIn = `let addon;
const load = () => {
  if (addon === undefined) {
    try {
      addon = require('bufferutil');
    } catch {
      addon = null;
    }
  }
  return addon;
};
module.exports = {
  mask(source, mask, output, offset, length) {
    if (length >= ${NATIVE_MASK_BYTES} && load()) return addon.mask(source, mask, output, offset, length);
    for (let i = 0; i < length; i++) output[offset + i] = source[i] ^ mask[i & 3];
  },
  unmask(buffer, mask) {
    if (buffer.length >= ${NATIVE_MASK_BYTES} && load()) return addon.unmask(buffer, mask);
    for (let i = 0; i < buffer.length; i++) buffer[i] ^= mask[i & 3];
  },
};`;

const lazyBufferutil: Plugin = {
  name: 'lazy-bufferutil',
  setup(b) {
    b.onResolve({ filter: /^bufferutil$/ }, (args) =>
      args.namespace === LAZY_ADDON ? { path: args.path, external: true } : { path: args.path, namespace: LAZY_ADDON },
    );
    b.onLoad({ filter: /.*/, namespace: LAZY_ADDON }, () => ({ contents: bufferutilStandIn, loader: 'js' }));
  },
};

/** The plugins of a rank's bundle, whose names are part of its key in the cache (with ON_FIRST_USE). */
const plugins = [dsmpiFallback, lazyBuiltins, lazyBufferutil];

/**
 * The main module of a rank (process or thread): runs the bundle, as a script with V8's code cache
 * when it can, after rank-stack-traces.cjs, which maps stack traces to the sources through the
 * bundle's source map, read only when a stack is printed (`--enable-source-maps` read it at every start).
 */
export const rankMain = packageFile('launcher/rank-main.cjs');

/** Node's arguments to run a bundle. */
export const bundleNodeArgs = (file: string): string[] => [rankMain, file];

/** Ends the first line of a bundle that can run as a script (read by launcher/rank-main.cjs: the two must agree). */
const SCRIPT_MARK = '/* dsmpi: runs as a script */';

/**
 * True if the bundle can run as the body of an async function (rank-main.cjs), which V8 can cache
 * compiled, where an ES module cannot be on Node.js 20: it exports nothing, imports nothing but by
 * require() (its first line, the banner, aside), reads no import.meta but its url and calls no
 * import() (a script compiled from the cache loses its import() callback).
 */
function runsAsScript(code: string, output: Metafile['outputs'][string]): boolean {
  const body = code.slice(code.indexOf('\n'));
  return (
    output.exports.length === 0 &&
    output.imports.every((i) => !i.external || i.kind === 'require-call' || i.kind === 'require-resolve') &&
    !/\bimport\s*(\.\s*meta|\()/.test(body)
  );
}

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

/** A cached bundle unused this long is removed when its program is compiled again. */
const STALE_MS = 24 * 3600 * 1000;

const sha256 = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex').slice(0, 32);

/** Read without loading esbuild, which only a job whose bundle is not cached needs. */
const esbuildVersion = (createRequire(import.meta.url)('esbuild/package.json') as { version: string }).version;

/**
 * How a program is compiled. Every rank parses the whole bundle when it starts, so it is minified:
 * whitespace and comments out (which also keeps it ASCII, a one-byte string in V8), syntax shortened;
 * names stay, and stack traces point into the sources through the source map (rank-stack-traces.cjs). A third smaller than
 * unminified, it saves each rank about 25 ms of CPU at start (docs/dsrun.md).
 */
const buildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  // Short lines: Node.js prints the line of the bundle where an error that nothing caught was thrown.
  lineLimit: 100,
  sourcemap: 'linked',
  sourcesContent: false,
  external: EXTERNAL,
  logLevel: 'silent',
  // CommonJS dependencies inside an ES module bundle still need a real require(). As a script
  // (rank-main.cjs), the bundle gets both names from the function this first line is replaced by.
  banner: {
    js: "import { createRequire as __dsmpiCreateRequire } from 'node:module'; const __dsmpiImportMetaUrl = import.meta.url, require = __dsmpiCreateRequire(__dsmpiImportMetaUrl);",
  },
  define: { 'import.meta.url': '__dsmpiImportMetaUrl' },
} as const satisfies BuildOptions;

/** Names a program's bundles in the cache: its path, and what compiles it (Node.js, esbuild and its options, dsmpi). */
function programKey(program: string): string {
  const pluginNames = [...plugins.map((plugin) => plugin.name), ...ON_FIRST_USE, bufferutilStandIn].join();
  return sha256([resolve(program), process.version, esbuildVersion, JSON.stringify(buildOptions), pluginNames, packageRoot].join('\0'));
}

/**
 * The cached bundle of the program whose key is `key`, if every file that went into it is unchanged:
 * files whose stamp (cache-files.mjs) is the manifest's are not read again.
 */
async function cachedBundle(key: string, jobId: string): Promise<string | undefined> {
  try {
    const manifest = join(bundleDir, `${key}.json`);
    const known = JSON.parse(await readFile(manifest, 'utf8')) as { program: string; inputs: string[]; hash?: string; stamp?: string };
    const { hash, stamp } = await currentHash(known.inputs, known);
    const file = join(bundleDir, `${key}-${hash}.mjs`);
    if (hash === undefined || !existsSync(file)) return undefined;
    // Files touched but not changed (a checkout): their new stamp spares the next job reading them.
    if (stamp !== known.stamp) await writeBundleFile(manifest, JSON.stringify({ ...known, hash, stamp }), jobId);
    return file;
  } catch {
    return undefined;
  }
}

/** Writes `file` whole, through a temporary file named after this dsrun, which removes it if killed. */
const writeBundleFile = (file: string, data: string | Uint8Array, jobId: string): Promise<void> =>
  writeWhole(file, data, join(bundleDir, `job-${process.pid}-${jobId}-${basename(file)}.tmp`));

/** Removes the other bundles of the program of `key` that have not been used for a day. */
function pruneOlder(key: string, keep: string): void {
  for (const name of readdirSync(bundleDir)) {
    if (!name.startsWith(`${key}-`) || name.startsWith(basename(keep))) continue;
    const path = join(bundleDir, name);
    try {
      if (Date.now() - statSync(path).atimeMs > STALE_MS) rmSync(path, { force: true });
    } catch {
      // Removed meanwhile by another dsrun.
    }
  }
}

/**
 * Compiles the program and everything it imports into one ES module, so that no rank loads a
 * TypeScript compiler. Bundles are cached, named after a hash of the contents of every file that
 * went into them (the program, its imports, dsmpi, its dependencies): a job of a program that has not
 * changed since the last one starts without compiling. Temporary files are named after this dsrun's
 * pid, so the next dsrun removes them if this one is killed while writing. Returns the bundle's path,
 * and a function to call when the job is done with it.
 */
export async function bundleProgram(program: string, jobId: string): Promise<{ file: string; remove: () => Promise<void> }> {
  reclaimStaleBundles();
  await mkdir(bundleDir, { recursive: true });
  const key = programKey(program);
  const keep = { remove: () => Promise.resolve() };
  const cached = await cachedBundle(key, jobId);
  if (cached) return { file: cached, ...keep };
  const outfile = join(bundleDir, `job-${process.pid}-${jobId}.mjs`);
  const { build } = await import('esbuild');
  const result = await build({ ...buildOptions, entryPoints: [program], outfile, write: false, metafile: true, plugins });
  const inputs = Object.keys(result.metafile.inputs)
    .filter((input) => !input.startsWith(`${LAZY_BUILTIN}:`) && !input.startsWith(`${LAZY_ADDON}:`))
    .map((input) => resolve(input));
  const { hash, stamp } = await currentHash(inputs, undefined);
  // An input gone meanwhile: a bundle for this job only, removed after it.
  const file = hash === undefined ? outfile : join(bundleDir, `${key}-${hash}.mjs`);
  const compiled = result.outputFiles.find((f) => f.path.endsWith('.mjs'))!.text;
  const output = Object.entries(result.metafile.outputs).find(([path]) => path.endsWith('.mjs'))![1];
  const code = runsAsScript(compiled, output) ? compiled.replace('\n', `${SCRIPT_MARK}\n`) : compiled;
  const map = result.outputFiles.find((f) => f.path.endsWith('.map'))!.contents;
  await writeBundleFile(`${file}.map`, map, jobId);
  await writeBundleFile(file, code.replace(`sourceMappingURL=${basename(outfile)}.map`, `sourceMappingURL=${basename(file)}.map`), jobId);
  if (hash === undefined)
    return { file, remove: () => Promise.all(['', '.map', '.v8cache'].map((end) => rm(`${file}${end}`, { force: true }))).then(() => {}) };
  await writeBundleFile(join(bundleDir, `${key}.json`), JSON.stringify({ program: resolve(program), inputs, hash, stamp }), jobId);
  pruneOlder(key, file);
  return { file, ...keep };
}
