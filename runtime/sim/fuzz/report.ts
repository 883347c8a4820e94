/** The fuzzer's table: one Markdown row per algorithm, and the failures with their replay commands. */
import { replayCommand, type FuzzReport, type Tally } from './fuzz.ts';

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
