// Regenerates docs/viewer/: a small trace and a screenshot of every example in examples/README.md.
//   node --import tsx test/view/gallery.mts [--redraw] [name ...]
// --redraw draws the committed traces again without running the examples (after a change to the page).
// Each example runs under dsrun with --threads, --seed 1 and --trace (threads: many ranks as
// processes can miss their 5 s connection handshake on a loaded machine); its page is drawn by
// headless Chromium at 1000×720 (real-time layout), and the PNG is cut to 32 colours when ImageMagick
// is installed. A trace without a note is reported: docs/viewer.md must say why (gallery.test.ts).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { openBrowser, load } from './browser.ts';

const MAX_EVENTS = 1500;
/** Runs other than the README's command without its optional parts: ranks, dsrun options, program arguments. */
const RUNS: Record<string, { n?: number; dsrun?: string[]; args?: string[] }> = {
  // Every round is an alltoall: with 16 ranks the first 1,500 events hold only 3 of the 15 learnings.
  gossip: { n: 8 },
  // A short run.
  pingpong: { args: ['20'] },
  // The failover, whose takeover and new view are the notes, within the first 1,500 events.
  'primary-backup': { dsrun: ['--kill', '0@0.3s'], args: ['20'] },
};
const root = new URL('../../', import.meta.url).pathname;
const out = `${root}docs/viewer/`;
mkdirSync(`${out}traces`, { recursive: true });
const redraw = process.argv.includes('--redraw');
const only = process.argv.slice(2).filter((a) => a !== '--redraw');
const rows = readFileSync(`${root}examples/README.md`, 'utf8')
  .split('\n')
  .map((line) => /^\| `([\w-]+)\.ts`.*?\| `npx dsrun ([^`]+)`/.exec(line))
  .filter((m): m is RegExpExecArray => m !== null)
  .filter((m) => only.length === 0 || only.includes(m[1]));
const session = await openBrowser(1000, 720);
try {
  for (const [, name, command] of rows) {
    // Optional arguments ([laps=3], [a|b]) are left out, except where RUNS asks for them.
    const args = command
      .replace(/\[[^\]]*\]/g, '')
      .trim()
      .split(/\s+/)
      .concat(RUNS[name]?.args ?? []);
    const n = RUNS[name]?.n;
    if (n !== undefined) args[args.indexOf('-n') + 1] = String(n);
    // Relative to the repository, so the replay command the page shows is one anyone can run.
    const trace = `docs/viewer/traces/${name}.jsonl`;
    const file = args.indexOf(`examples/${name}.ts`);
    const dsrunArgs = [
      ...args.slice(0, file),
      '--threads',
      ...(RUNS[name]?.dsrun ?? []),
      ...['--seed', '1', '--quiet', '--trace', trace],
      ...args.slice(file),
    ];
    try {
      if (!redraw) execFileSync('node', [`${root}launcher/dsrun.mjs`, ...dsrunArgs], { cwd: root, stdio: 'ignore', timeout: 120_000 });
    } catch (err) {
      process.stderr.write(`${name}: dsrun ${dsrunArgs.join(' ')}: ${(err as Error).message.split('\n')[0]} (trace kept if written)\n`);
    }
    if (!existsSync(`${root}${trace}`)) continue;
    const lines = readFileSync(`${root}${trace}`, 'utf8').split('\n');
    // Kept small: a long run keeps its first MAX_EVENTS events (a prefix of a trace is a trace).
    if (lines.length > MAX_EVENTS + 1) writeFileSync(`${root}${trace}`, lines.slice(0, MAX_EVENTS).join('\n') + '\n');
    if (!lines.slice(0, MAX_EVENTS).some((l) => l.includes('"ev":"note"'))) process.stderr.write(`${name}: no notes in the trace\n`);
    const html = `/tmp/dsmpi-gallery-${process.pid}-${name}.html`;
    execFileSync('node', [`${root}launcher/dsrun.mjs`, 'view', `${root}${trace}`, '-o', html], { stdio: 'ignore' });
    await load(session.page, html);
    const png = `${out}${name}.png`;
    await session.page.screenshot({ path: png, clip: { x: 0, y: 0, width: 1000, height: 720 } });
    try {
      execFileSync('convert', [png, '-colors', '32', `PNG8:${png}`], { stdio: 'ignore' });
    } catch {
      // no ImageMagick: the full-colour PNG stays
    }
    process.stdout.write(`${name}: ${png}\n`);
  }
} finally {
  await session.close();
}
