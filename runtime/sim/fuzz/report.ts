/** The fuzzer's table: one Markdown row per algorithm, and the failures with their replay commands. */
import { OUT_OF_MODEL_EXAMPLES, replayCommand, type FuzzReport, type Tally } from './fuzz.ts';
import { FAULT_KINDS } from './schedule.ts';

export const TABLE_HEADER = [
  '| algorithm | seeds | n | fault kinds in model | safety violations | liveness failures | after stabilization: median / worst | out of model: runs, safety, liveness (kinds) |',
  '|---|---|---|---|---|---|---|---|',
];

const ms = (x: number | undefined): string => (x === undefined ? '–' : `${Math.round(x)} ms`);
const median = (sorted: readonly number[]): number | undefined => (sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)] : undefined);

function outside(t: Tally): string {
  if (t.runs === 0) return '–';
  return `${t.runs}, ${t.safety}, ${t.liveness} (${t.kinds.join(', ')})`;
}

export function tableRow(r: FuzzReport): string {
  const t = r.inModel;
  return `| ${r.target} | ${r.seeds} | ${r.minN}..${r.maxN} | ${t.kinds.join(', ') || '–'} | ${t.safety} | ${t.liveness} | ${ms(median(t.times))} / ${ms(t.times.at(-1))} | ${outside(r.outOfModel)} |`;
}

/** The failures of a report, each with its replay command, for a terminal. */
export function failureLines(r: FuzzReport): string[] {
  return r.failures.flatMap((f) => [
    `${r.target}: seed ${f.fuzzSeed}: ${f.verdict}${f.inModel ? '' : ` (outside the model: ${f.outside})`}: ${f.message.split('\n')[0]}`,
    `  replay: ${replayCommand(r.target, f.schedule)}`,
  ]);
}

/**
 * One report from reports of the same target over disjoint seed ranges (a campaign run in chunks,
 * or in several processes): tallies added, times pooled, every failure inside the model kept and the
 * first few outside it, in seed order.
 */
export function mergeReports(parts: readonly FuzzReport[]): FuzzReport {
  const [head] = parts;
  if (!head) throw new RangeError('mergeReports: no report to merge');
  const stranger = parts.find((p) => p.target !== head.target);
  if (stranger) throw new RangeError(`mergeReports: reports of ${head.target} and ${stranger.target} do not merge`);
  const tally = (key: 'inModel' | 'outOfModel'): Tally => ({
    runs: parts.reduce((a, p) => a + p[key].runs, 0),
    safety: parts.reduce((a, p) => a + p[key].safety, 0),
    liveness: parts.reduce((a, p) => a + p[key].liveness, 0),
    times: parts.flatMap((p) => p[key].times).sort((a, b) => a - b),
    kinds: FAULT_KINDS.filter((k) => parts.some((p) => p[key].kinds.includes(k))),
  });
  return {
    ...head,
    first: Math.min(...parts.map((p) => p.first)),
    seeds: parts.reduce((a, p) => a + p.seeds, 0),
    minN: Math.min(...parts.map((p) => p.minN)),
    maxN: Math.max(...parts.map((p) => p.maxN)),
    inModel: tally('inModel'),
    outOfModel: tally('outOfModel'),
    failures: [
      ...parts.flatMap((p) => p.failures.filter((f) => f.inModel)),
      ...parts
        .flatMap((p) => p.failures.filter((f) => !f.inModel))
        .sort((a, b) => a.fuzzSeed - b.fuzzSeed)
        .slice(0, OUT_OF_MODEL_EXAMPLES),
    ].sort((a, b) => a.fuzzSeed - b.fuzzSeed),
  };
}
