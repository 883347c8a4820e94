// Network shaping (the book's exercise 6): single-decree Paxos (examples/paxos.ts) under dsrun over a
// grid of --delay and --drop settings. Prints setting → ballots tried and NACKs (from the proposers'
// lines), success (exit 0, every rank decided one value) and wall time; on loss-free settings also
// the telemetry run (examples/telemetry.ts: time to decide, messages), whose event channel and
// start-up collectives do not tolerate loss. Every run is bounded by --timeout.
// Usage: node --import tsx bench/network-shaping.ts [n=5] [timeout s=15]
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const n = Number(process.argv[2] ?? 5);
const timeoutS = Number(process.argv[3] ?? 15);
const delays = ['0ms', '1ms..5ms', '5ms..20ms'];
const drops = [0, 0.05, 0.2];

function dsrun(args: string[]): Promise<{ code: number | null; stdout: string; ms: number }> {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const start = performance.now();
  const child = spawn(process.execPath, [`${root}launcher/dsrun.mjs`, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.resume();
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, ms: performance.now() - start })));
}

const rows: string[][] = [['delay', 'drop', 'success', 'ballots', 'retries', 'nacks', 'wall s', 'decide ms', 'messages']];
for (const delay of delays) {
  for (const drop of drops) {
    const args = ['-n', String(n), '--timeout', String(timeoutS), '--seed', '1'];
    if (delay !== '0ms') args.push('--delay', delay);
    if (drop > 0) args.push('--drop', String(drop));
    const r = await dsrun([...args, 'examples/paxos.ts']);
    const proposers = [...r.stdout.matchAll(/(\d+) attempt\(s\), (\d+) nack\(s\)/g)];
    const ballots = proposers.reduce((a, x) => a + Number(x[1]), 0);
    const nacks = proposers.reduce((a, x) => a + Number(x[2]), 0);
    const decided = new Set([...r.stdout.matchAll(/\] decided (\S+)/g)].map((x) => x[1]));
    const ok = r.code === 0 && decided.size === 1;
    let decideMs = '-';
    let messages = '-';
    if (drop === 0) {
      const tel = await dsrun([...args, 'examples/telemetry.ts']);
      const m = /messages=(\d+) .* decide_ms=(\S+)/.exec(tel.stdout);
      [messages, decideMs] = [m?.[1] ?? '-', m?.[2] ?? '-'];
    }
    rows.push([
      delay,
      String(drop),
      ok ? 'yes' : `no (exit ${r.code})`,
      proposers.length ? String(ballots) : '-',
      proposers.length ? String(ballots - proposers.length) : '-',
      proposers.length ? String(nacks) : '-',
      (r.ms / 1000).toFixed(1),
      decideMs,
      messages,
    ]);
    process.stderr.write('.');
  }
}
process.stderr.write('\n');
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '));
