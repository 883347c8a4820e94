// The shell commands of README.md and docs/**/*.md, as the docs test runs them.
//
// The convention (docs/README.md says it for writers):
// - A fenced block tagged `sh` holds commands, one a line (a line ending in `\` continues on the
//   next). Each runs, in order, and must exit with status 0.
// - A fenced block tagged `console` is a transcript: `$ command` lines, each followed by the output
//   it prints. Every output line must match some line the command printed (stdout or stderr, in any
//   order, since ranks print concurrently); `…` (or `...`) inside a line matches any text, a line that
//   is only `…` is left out, and runs of spaces count as one.
// - `<!-- docs-test: skip, reason -->` on the line before a block skips it, and says why.
//   `<!-- docs-test: setup, command -->` runs a command first (to create a file the block reads).
// - Blocks with any other tag (or none) are not run: diagrams, file contents, sample output.
// The commands of one page run in order, in one temporary directory that mirrors the repository (so
// `examples/ring.ts` resolves and `--trace run.jsonl` writes there), with HOME set to it.
// `npx dsrun` and `dsrun` run this checkout's launcher directly (what npx would find, without its
// start-up cost).
import type { Test } from 'tap';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export interface DocCommand {
  command: string;
  /** The output lines a `console` transcript shows after the command (none for `sh` blocks). */
  expected: string[];
}

export interface DocBlock {
  /** The page, from the repository root, and the line of the opening fence. */
  file: string;
  line: number;
  commands: DocCommand[];
  setup: string[];
  skip?: string;
}

/** README.md and every page under docs/, in a stable order. */
export function docPages(): string[] {
  const docs = readdirSync(join(root, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.md'))
    .map((f) => join('docs', f))
    .sort();
  return ['README.md', ...docs];
}

const FENCE = /^ {0,3}```(\S*)\s*$/;
const MARK = /^\s*<!--\s*docs-test:\s*(skip|setup)\s*[,:]\s*(.*?)\s*-->\s*$/;

/** The `sh` and `console` blocks of one page; other blocks are returned in `others` for the lint. */
export function pageBlocks(file: string): { blocks: DocBlock[]; others: { line: number; lang: string; text: string[] }[] } {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const blocks: DocBlock[] = [];
  const others: { line: number; lang: string; text: string[] }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i].match(FENCE);
    if (!open) continue;
    const lang = open[1];
    let end = i + 1;
    while (end < lines.length && !FENCE.test(lines[end])) end++;
    const body = lines.slice(i + 1, end).map((l) => l.replace(/^\s{0,3}/, ''));
    const marks: RegExpMatchArray[] = [];
    for (let j = i - 1; j >= 0 && MARK.test(lines[j]); j--) marks.unshift(lines[j].match(MARK)!);
    if (lang === 'sh' || lang === 'console') {
      blocks.push({
        file,
        line: i + 1,
        commands: lang === 'sh' ? shellCommands(body) : transcript(body),
        setup: marks.filter((m) => m[1] === 'setup').map((m) => m[2]),
        skip: marks.find((m) => m[1] === 'skip')?.[2],
      });
    } else {
      others.push({ line: i + 1, lang, text: body });
    }
    i = end;
  }
  return { blocks, others };
}

/** Joins `\` continuations; drops blank lines and whole-line comments. */
function logicalLines(body: string[]): string[] {
  const out: string[] = [];
  let pending = '';
  for (const line of body) {
    if (line.trimEnd().endsWith('\\')) {
      pending += line.trimEnd().slice(0, -1) + ' ';
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    if (full !== '' && !full.startsWith('#')) out.push(full);
  }
  return out;
}

function shellCommands(body: string[]): DocCommand[] {
  return logicalLines(body).map((command) => ({ command, expected: [] }));
}

function transcript(body: string[]): DocCommand[] {
  const commands: DocCommand[] = [];
  for (const line of body) {
    if (line.startsWith('$ ')) commands.push({ command: line.slice(2).trim(), expected: [] });
    else if (commands.length > 0 && line.trim() !== '') commands.at(-1)!.expected.push(line);
  }
  return commands;
}

const squash = (s: string): string => s.replace(/\s+/g, ' ').trim();
const isEllipsis = (s: string): boolean => /^(…|\.\.\.)$/.test(squash(s));

/** A pattern for one documented output line: `…` or `...` matches any text, spaces are loose. */
export function outputPattern(expected: string): RegExp {
  const parts = squash(expected)
    .split(/…|\.\.\./)
    .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`);
}

/** The documented lines that no line of `output` matches. */
export function missingLines(expected: string[], output: string): string[] {
  const actual = output.split('\n').map(squash);
  return expected.filter((e) => !isEllipsis(e)).filter((e) => !actual.some((a) => outputPattern(e).test(a)));
}

/** A directory that looks like the repository to the commands: its top-level entries, linked. */
export function scratchCopy(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'dsmpi-docs-'));
  for (const entry of readdirSync(root)) {
    if (entry === '.git' || entry === '.tap') continue;
    symlinkSync(join(root, entry), join(dir, entry));
  }
  const bin = join(dir, '.bin');
  mkdirSync(bin);
  const launcher = join(root, 'launcher/dsrun.mjs');
  writeFileSync(join(bin, 'dsrun'), `#!/bin/sh\nexec "${process.execPath}" "${launcher}" "$@"\n`);
  // npx dsrun → this checkout's launcher; anything else → the real npx.
  writeFileSync(
    join(bin, 'npx'),
    `#!/bin/sh\nif [ "$1" = dsrun ]; then shift; exec "${join(bin, 'dsrun')}" "$@"; fi\nexec "${npxPath()}" "$@"\n`,
  );
  chmodSync(join(bin, 'dsrun'), 0o755);
  chmodSync(join(bin, 'npx'), 0o755);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

function npxPath(): string {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    try {
      readFileSync(join(dir, 'npx'));
      return join(dir, 'npx');
    } catch {
      // not here
    }
  }
  return 'npx';
}

export interface CommandResult {
  code: number | null;
  output: string;
  timedOut: boolean;
}

/** Runs one command with bash in `dir`; kills its process group past `limitMs`. */
export function runCommand(command: string, dir: string, limitMs: number): Promise<CommandResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: dir, PATH: `${join(dir, '.bin')}:${process.env.PATH}` };
  delete env.NODE_OPTIONS; // as a user runs it: without the test runner's hooks
  for (const key of Object.keys(env)) if (key.startsWith('TAP')) delete env[key];
  const child = spawn('bash', ['-o', 'pipefail', '-c', command], { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  return new Promise((done) => {
    let timedOut = false;
    const limit = setTimeout(() => {
      timedOut = true;
      process.kill(-child.pid!, 'SIGKILL');
    }, limitMs);
    child.on('close', (code) => {
      clearTimeout(limit);
      done({ code, output, timedOut });
    });
  });
}

/** Every block of every page. */
export function allBlocks(): DocBlock[] {
  return docPages().flatMap((page) => pageBlocks(page).blocks);
}

export const where = (b: DocBlock): string => `${b.file}:${b.line}`;
export const fromRoot = (p: string): string => relative(root, p);

/** How many test files share the pages (each page goes to one, by its index). */
export const SHARDS = 12;
const COMMAND_LIMIT_MS = 60_000;

/** The pages of shard `index`: each page goes to the shard with the fewest commands so far. */
export function shardPages(index: number): string[] {
  const load = new Array<number>(SHARDS).fill(0);
  const shards: string[][] = Array.from({ length: SHARDS }, () => []);
  const weighed = docPages().map((page) => {
    const runnable = pageBlocks(page).blocks.filter((b) => b.skip === undefined);
    return { page, weight: runnable.reduce((n, b) => n + b.setup.length + b.commands.length, 0) };
  });
  for (const { page, weight } of weighed.sort((a, b) => b.weight - a.weight)) {
    const lightest = load.indexOf(Math.min(...load));
    shards[lightest].push(page);
    load[lightest] += weight;
  }
  return shards[index].sort();
}

/** Runs the pages of shard `index` (of SHARDS), one page at a time, each command as a tap subtest. */
export function runShard(t: Test, index: number): void {
  // A share takes about 20 s on an idle machine; on a loaded one a job can take ten times as long.
  t.setTimeout(300_000);
  for (const page of shardPages(index)) {
    const { blocks } = pageBlocks(page);
    if (blocks.length === 0) continue;
    t.test(page, async (t) => {
      const scratch = scratchCopy();
      t.teardown(scratch.remove);
      for (const block of blocks) {
        if (block.skip !== undefined) {
          t.test(`${where(block)}: ${block.commands.map((c) => c.command).join('; ')}`, { skip: block.skip }, async () => {});
          continue;
        }
        for (const setup of block.setup) {
          const r = await runCommand(setup, scratch.dir, COMMAND_LIMIT_MS);
          t.equal(r.code, 0, `${where(block)} setup: ${setup}`, { output: r.output });
        }
        for (const { command, expected } of block.commands) {
          const r = await runCommand(command, scratch.dir, COMMAND_LIMIT_MS);
          const name = `${where(block)}: ${command}`;
          if (r.timedOut) t.fail(`${name} did not end within ${COMMAND_LIMIT_MS / 1000} s`, { output: r.output });
          else t.equal(r.code, 0, name, { output: r.output });
          if (expected.length > 0) t.same(missingLines(expected, r.output), [], `${name}: the documented output`, { output: r.output });
        }
      }
    });
  }
}
