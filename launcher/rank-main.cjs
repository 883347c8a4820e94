// The main module of a rank process: `node launcher/rank-main.cjs <bundle> [args...]` runs the
// program's bundle (launcher/bundle.ts) as `node <bundle> [args...]` would, with stack traces mapped
// to the sources (rank-stack-traces.cjs), and faster: a bundle marked as able to run as a script is
// compiled as one with V8's code cache, which the job's rank 0 writes beside the bundle when it
// exits (`<bundle>.v8cache`), so that later ranks deserialize the functions it compiled instead of
// compiling them again. Plain CommonJS, so that no rank loads Node.js's ES module loader at all.
'use strict';
require('./rank-stack-traces.cjs');
const { readFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { resolve } = require('node:path');
const { pathToFileURL } = require('node:url');
const { compileWithCodeCache } = require('./code-cache.cjs');

/** Ends the first line of a bundle that runs as a script (written by launcher/bundle.ts: the two must agree). */
const SCRIPT_MARK = '/* dsmpi: runs as a script */';

const file = resolve(process.argv[2]);
// The program sees the arguments that `node <bundle> [args...]` gives it.
process.argv.splice(1, 2, file);
const url = pathToFileURL(file).href;
const code = readFileSync(file, 'utf8');
const firstLine = code.indexOf('\n');

/** Runs the bundle as a script compiled with the code cache beside it, writing that cache if it has none. */
function runScript() {
  // The module's body in an async function (its top-level awaits stay valid), taking what the bundle's
  // first line, an import, gives it; the lines keep their numbers, so the source map still holds.
  // Rank 0 (or a program run alone) writes the cache when it has none that V8 accepts.
  const script = compileWithCodeCache(
    `(async function (require, __dsmpiImportMetaUrl) {'use strict';${code.slice(firstLine)}\n})`,
    url,
    `${file}.v8cache`,
    (process.env.DSMPI_RANK ?? '0') === '0',
  );
  return script.runInThisContext()(createRequire(url), url);
}

const scriptable = firstLine >= 0 && code.slice(0, firstLine).endsWith(SCRIPT_MARK);
// Else a bundle that needs the module loader (it imports, exports, or reads import.meta beyond its url).
const program = scriptable ? runScript() : import(url);
let settled = false;
program.then(
  () => (settled = true),
  (err) => {
    settled = true;
    // An exception nothing caught at the top level, reported as Node.js reports one from an ES module.
    process.nextTick(() => {
      throw err;
    });
  },
);
// As Node.js ends an ES module whose top-level await never settles: with exit code 13.
process.on('beforeExit', () => {
  if (!settled && !process.exitCode) process.exitCode = 13;
});
