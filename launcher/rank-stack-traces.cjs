// Loaded before a rank's bundle (by launcher/rank-main.cjs, in a rank process or thread;
// plain JavaScript, so that it needs no compiling): stack traces point into the program's and
// dsmpi's sources through the source map beside the bundle (`<bundle>.map`), read only when a stack
// is first formatted. `node --enable-source-maps` did the same, but read and indexed the map as
// every rank started, for stacks that most ranks never print (docs/dsrun.md). Frames are written as
// Node.js writes them with source maps. CommonJS, as an ES module importing `node:fs` makes Node.js
// load that module's every lazy part (fs/promises, streams, readline: 24 more built-in modules).
'use strict';
const { readFileSync } = require('node:fs');
const { SourceMap } = require('node:module');
const { dirname, resolve } = require('node:path');
const { fileURLToPath } = require('node:url');
const { inspect } = require('node:util');

// Node.js's own source maps, if something turned them on (NODE_OPTIONS=--enable-source-maps, a test
// runner's preloaded module), would read every map as the bundle loads: this module maps instead.
process.setSourceMapsEnabled(false);

/** The source map of each file seen in a stack (null: it has none). */
const maps = new Map();

function sourceMap(url) {
  if (!url?.startsWith('file://')) return null;
  if (maps.has(url)) return maps.get(url);
  let map = null;
  try {
    const file = `${fileURLToPath(url)}.map`;
    const payload = JSON.parse(readFileSync(file, 'utf8'));
    // Written relative to the map; printed as absolute paths, as Node.js prints them.
    payload.sources = payload.sources.map((source) => resolve(dirname(file), source));
    map = new SourceMap(payload);
  } catch {
    // No map (or not one to read): the frame stays as it is.
  }
  maps.set(url, map);
  return map;
}

/** Where a position of the bundle comes from (0-based line and column), if the map knows. */
function original(map, line, column) {
  const entry = map.findEntry(line, column);
  return entry.originalSource === undefined ? undefined : entry;
}

/** Where each error whose stack was formatted comes from in the sources: its first frame the map knows. */
const thrownAt = new WeakMap();

/** One frame as Node.js writes it with source maps (`at Type.name (file.ts:line:col)`). */
function frame(site, error) {
  const map = sourceMap(site.getFileName());
  const at = map && original(map, site.getLineNumber() - 1, site.getColumnNumber() - 1);
  if (!at) return `${site}`;
  if (!thrownAt.has(error)) thrownAt.set(error, at);
  const typeName = site.getTypeName();
  const compiled = `${typeName !== null && typeName !== 'global' ? `${typeName}.` : ''}${site.getFunctionName() ?? site.getMethodName() ?? '<anonymous>'}`;
  // A name the compiler changed (to avoid a clash) is restored from the map.
  const name = original(map, site.getEnclosingLineNumber() - 1, site.getEnclosingColumnNumber() - 1)?.name || compiled;
  const prefix = site.isAsync() ? 'async ' : site.isConstructor() ? 'new ' : '';
  return `${prefix}${name} (${at.originalSource}:${at.originalLine + 1}:${at.originalColumn + 1})`;
}

/** The first line of a stack: Node.js's own errors name their code (`TypeError [ERR_X]: ...`). */
function heading(error) {
  for (let proto = error; proto; proto = Object.getPrototypeOf(proto)) {
    if (Object.getOwnPropertySymbols(proto).some((s) => s.description === 'kIsNodeError'))
      return `${error.name} [${error.code}]: ${error.message}`;
  }
  return Error.prototype.toString.call(error);
}

/** Where a rank process's program starts (rank-main.cjs): its frame, and Node.js's below it, are the launcher's. */
const rankMain = resolve(__dirname, 'rank-main.cjs');

/** The frames of `trace` down to the program's top level. */
function programFrames(trace) {
  const end = trace.findIndex((site) => site.getFileName() === rankMain);
  return end < 0 ? trace : trace.slice(0, end);
}

Error.prepareStackTrace = (error, trace) =>
  `${heading(error)}${programFrames(trace)
    .map((site) => `\n    at ${frame(site, error)}`)
    .join('')}`;

/** The source line an error comes from with a caret under its column, as Node.js heads a fatal error. */
function sourceContext(error) {
  if (!(error instanceof Error)) return '';
  void error.stack; // formatting the stack (once) records where the error comes from
  const at = thrownAt.get(error);
  if (!at) return '';
  try {
    const line = readFileSync(at.originalSource, 'utf8').split('\n')[at.originalLine];
    return line === undefined ? '' : `${at.originalSource}:${at.originalLine + 1}\n${line}\n${' '.repeat(at.originalColumn)}^\n\n\n`;
  } catch {
    return '';
  }
}

// An exception nothing catches while the program loads (before run(), which reports them itself)
// kills the rank, and Node.js heads its report with the line it was thrown at: a line of the
// minified bundle, thousands of characters long. Report it as --enable-source-maps does, with the
// line of the source, and exit as Node.js does (code 1).
process.on('uncaughtException', (error) => {
  if (process.listenerCount('uncaughtException') > 1) return;
  process.stderr.write(`${sourceContext(error)}${inspect(error)}\n\nNode.js ${process.version}\n`);
  process.exit(1);
});
