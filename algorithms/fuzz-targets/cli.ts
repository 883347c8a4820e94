/**
 * `npm run fuzz -- <algorithm>|all [--seeds N] [--n 1..9]`: the swarm fuzzer's command line
 * (docs/fuzzing.md). Prints one table row per algorithm, then each failure with its replay command;
 * exits 1 if any run inside an algorithm's fault model failed.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import {
  failureLines,
  fuzz,
  mergeReports,
  replayCommand,
  runCase,
  tableRow,
  TABLE_HEADER,
  type FaultSchedule,
  type FuzzReport,
  type FuzzTarget,
} from 'dsmpi/fuzz';
import { integer } from './cli-options.ts';
import { targetNamed, targets } from './index.ts';

interface Flags {
  seeds?: number;
  first: number;
  n?: [number, number];
  replay?: string;
  shrink: boolean;
  jobs: number;
  json: boolean;
  combine?: string[];
}

function nRange(raw: string): [number, number] {
  const m = /^(\d+)(?:\.\.(\d+))?$/.exec(raw);
  const lo = Number(m?.[1]);
  const hi = Number(m?.[2] ?? m?.[1]);
  if (!m || lo < 1 || hi < lo) throw new InvalidArgumentError(`'${raw}' is not a range of n: write K or LO..HI, e.g. 1..9`);
  return [lo, hi];
}

/** Default budgets: consensus and commit ports get more. */
const defaultSeeds = (t: FuzzTarget<unknown>): number => (t.family === 'other' ? 200 : 500);

const program = new Command('fuzz')
  .description('Swarm-fuzz algorithms in the simulator: safety on every step, liveness after the faults stop')
  .argument('<algorithm>', `one of: ${targets.map((t) => t.name).join(', ')}, or all`)
  .option('--seeds <N>', 'schedules per algorithm (default 500 for consensus and commit, 200 others)', integer('--seeds', 1))
  .option('--first <K>', 'first fuzz seed', integer('--first', 0), 1)
  .option('--n <range>', 'numbers of ranks, e.g. 3 or 1..9 (within what each algorithm runs at)', nRange)
  .option('--replay <schedule>', 'run one schedule (the JSON a failure printed) and say what happened')
  .option('--no-shrink', 'report failures as drawn, without shrinking them')
  .option('--jobs <J>', 'run in J processes', integer('--jobs', 1), 1)
  .option('--json', 'print the reports as JSON (one per line) instead of the table', false)
  .option('--combine <file...>', 'run nothing: print the table of reports saved by --json (a campaign run in chunks)')
  .action(main);

async function main(name: string, flags: Flags): Promise<void> {
  const chosen = name === 'all' ? targets : [targetNamed(name)];
  if (chosen.some((t) => !t)) program.error(`error: no algorithm '${name}'; one of: ${targets.map((t) => t.name).join(', ')}, or all`);
  if (flags.replay !== undefined) return replay(chosen[0]!, flags.replay);
  const reports: FuzzReport[] = [];
  const combined = flags.combine && saved(flags.combine);
  if (!flags.json) console.log(TABLE_HEADER.join('\n'));
  const done =
    combined ||
    (await pool(
      (chosen as FuzzTarget<unknown>[]).flatMap((t) => split(t, flags)),
      flags.jobs,
      (shard) => runShard(shard, flags),
    ));
  for (const t of chosen as FuzzTarget<unknown>[]) {
    const parts = done.filter((r) => r.target === t.name);
    if (parts.length === 0) continue;
    const report = mergeReports(parts);
    reports.push(report);
    console.log(flags.json ? JSON.stringify(report) : tableRow(report));
  }
  if (!flags.json) for (const line of reports.flatMap(failureLines)) console.log(line);
  if (reports.some((r) => r.inModel.safety + r.inModel.liveness > 0)) process.exitCode = 1;
}

interface Shard {
  target: FuzzTarget<unknown>;
  first: number;
  seeds: number;
}

/** A target's seeds in `jobs` contiguous parts (one part without --jobs). */
function split(target: FuzzTarget<unknown>, flags: Flags): Shard[] {
  const seeds = flags.seeds ?? defaultSeeds(target);
  const parts = Math.min(flags.jobs, seeds);
  return Array.from({ length: parts }, (_, i) => {
    const lo = Math.floor((i * seeds) / parts);
    const hi = Math.floor(((i + 1) * seeds) / parts);
    return { target, first: flags.first + lo, seeds: hi - lo };
  });
}

async function runShard(shard: Shard, flags: Flags): Promise<FuzzReport> {
  if (flags.jobs === 1) {
    const progress = (seed: number): void => {
      const done = seed - shard.first + 1;
      if (done % 100 === 0 && done < shard.seeds)
        process.stderr.write(`fuzz: ${shard.target.name}: ${done} of ${shard.seeds} seeds from ${shard.first}\n`);
    };
    return fuzz(shard.target, {
      seeds: shard.seeds,
      first: shard.first,
      minN: flags.n?.[0],
      maxN: flags.n?.[1],
      shrink: flags.shrink,
      onSeed: progress,
    });
  }
  const args = [shard.target.name, '--json', '--seeds', String(shard.seeds), '--first', String(shard.first)];
  if (flags.n) args.push('--n', `${flags.n[0]}..${flags.n[1]}`);
  if (!flags.shrink) args.push('--no-shrink');
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  await new Promise((resolve) => child.on('close', resolve));
  const line = out.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`fuzz: the process for ${shard.target.name} (seeds from ${shard.first}) printed no report`);
  return JSON.parse(line) as FuzzReport;
}

/** Runs `work` on every item, at most `jobs` at once; results in item order. */
async function pool<I, O>(items: I[], jobs: number, work: (item: I) => Promise<O>): Promise<O[]> {
  const out: O[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, items.length) }, worker));
  return out;
}

/** The reports that `--json` printed into `files` (other lines, such as a table, are skipped). */
function saved(files: string[]): FuzzReport[] {
  const reports = files.flatMap((file) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      return program.error(`error: --combine: cannot read ${file}: ${(err as Error).message}`);
    }
    return text
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line, i) => {
        try {
          return JSON.parse(line) as FuzzReport;
        } catch (err) {
          return program.error(`error: --combine: ${file}: report ${i + 1} is not JSON: ${(err as Error).message}`);
        }
      });
  });
  for (const name of new Set(reports.map((r) => r.target))) disjoint(reports.filter((r) => r.target === name));
  return reports;
}

/** Chunks of one target must cover different seeds, or a seed would count twice. */
function disjoint(parts: FuzzReport[]): void {
  const sorted = [...parts].sort((a, b) => a.first - b.first);
  sorted.slice(1).forEach((p, i) => {
    const before = sorted[i];
    if (p.first < before.first + before.seeds)
      program.error(
        `error: --combine: two reports of ${p.target} cover the same seeds (${before.first}..${before.first + before.seeds - 1} and ${p.first}..${p.first + p.seeds - 1})`,
      );
  });
}

async function replay(target: FuzzTarget<unknown>, raw: string): Promise<void> {
  let schedule: FaultSchedule | undefined;
  try {
    schedule = JSON.parse(raw) as FaultSchedule;
  } catch (err) {
    return program.error(`error: --replay takes the JSON schedule a failure printed: ${(err as Error).message}`);
  }
  const o = await runCase(target, schedule);
  console.log(
    `${target.name}: ${o.verdict}${o.inModel ? '' : ` (outside the model: ${o.outside})`}; stabilized at ${Math.round(o.stabilizedMs)} ms, finished ${Math.round(o.afterStabilizationMs)} ms after`,
  );
  if (o.message) console.log(o.message);
  console.log(`  replay: ${replayCommand(target.name, schedule)}`);
  if (o.verdict !== 'ok' && o.inModel) process.exitCode = 1;
}

await program.parseAsync();
