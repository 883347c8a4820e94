// Growth with n on one machine: dsrun -n N bench/programs/scale.ts for n = 2…256 as threads and to 64
// as processes (or up to --max-n); start-up, barrier, allreduce and memory per rank, with how each
// grows from n = 2 (log2 n is the goal for the collectives).
import { loadavg } from 'node:os';
import { runJson } from './collectives.ts';

const SIZES = [2, 4, 8, 16, 32, 64, 128, 256];
const MAX_PROCESSES = 64;

interface Figures {
  startUpMs: number;
  barrierUs: number;
  allreduceUs: number;
  rssPerRankMiB: number;
}

export async function benchScale(maxN: number): Promise<string> {
  const lines = [
    '| ranks | n | start-up (ms) | × n=2 | barrier (µs) | × n=2 | allreduce (µs) | × n=2 | RSS per rank (MiB) | log2 n |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const mode of ['threads', 'processes'] as const) {
    let first: Figures | undefined;
    for (const n of SIZES.filter((n) => n <= maxN && (mode === 'threads' || n <= MAX_PROCESSES))) {
      const env: NodeJS.ProcessEnv = { ...process.env, DSMPI_BENCH_T0: String(Date.now()) };
      delete env.NODE_OPTIONS;
      const flags = mode === 'threads' ? ['--threads'] : [];
      const r = (await runJson(
        process.execPath,
        ['launcher/dsrun.mjs', '-n', String(n), '--quiet', '--oversubscribe', ...flags, 'bench/programs/scale.ts'],
        env,
        300_000,
      )) as Figures | undefined;
      if (!r) {
        lines.push(`| ${mode} | ${n} | failed | | | | | | | |`);
        continue;
      }
      first ??= r;
      const x = (k: keyof Figures): string => (r[k] / first![k]).toFixed(1);
      const row = `| ${mode} | ${n} | ${r.startUpMs.toFixed(0)} | ${x('startUpMs')} | ${r.barrierUs.toFixed(0)} | ${x('barrierUs')} | ${r.allreduceUs.toFixed(0)} | ${x('allreduceUs')} | ${r.rssPerRankMiB.toFixed(1)} | ${Math.log2(n)} |`;
      lines.push(row);
      // Each row as it comes, with the load then: a long run on a busy machine may be cut short.
      process.stderr.write(`scale: ${row} load ${loadavg()[0].toFixed(1)}\n`);
    }
  }
  lines.push('', "Start-up: from dsrun starting to every rank in its main. Barrier, allreduce: the slowest rank's median.");
  return lines.join('\n');
}
