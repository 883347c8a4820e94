// Compiling a script with V8's code cache kept beside it (`<file>.v8cache`), shared by the ranks'
// main module (rank-main.cjs) and dsrun's own bundle in a checkout (launcher-bundle.mjs). Plain
// CommonJS, so that a rank loading it loads no ES module loader.
'use strict';
const { readFileSync, renameSync, writeFileSync } = require('node:fs');
const { Script } = require('node:vm');

/**
 * `source` compiled as a script named `url`, with the code cache in `cacheFile` if V8 accepts it.
 * If it does not (none yet, or one for other code or another Node.js) and `writeCache` is true, the
 * cache is written when the process exits, so that it holds every function the process ran, not
 * just those compiled before the first line.
 */
exports.compileWithCodeCache = function compileWithCodeCache(source, url, cacheFile, writeCache) {
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // None yet: written at this process's exit.
  }
  const script = new Script(source, { filename: url, cachedData });
  if (writeCache && script.cachedDataRejected !== false) {
    process.once('exit', () => {
      const temporary = `${cacheFile}.${process.pid}.tmp`;
      try {
        writeFileSync(temporary, script.createCachedData());
        renameSync(temporary, cacheFile);
      } catch {
        // A cache is an optimisation: a full disk or a removed file leaves the next run without one.
      }
    });
  }
  return script;
};
