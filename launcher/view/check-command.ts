import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { checkLinearizability, formatHistory, type Model } from '../../algorithms/checkers/linearizability.ts';
import { parseHistory } from '../../algorithms/checkers/history-format.ts';
import { kvModel, registerModel } from '../../algorithms/checkers/models.ts';
import { renderHistoryHtml } from './history-html.ts';

export interface CheckCommandOptions {
  model: 'register' | 'kv';
  /** Where to draw the history when it is not linearizable. */
  out?: string;
  timeoutMs?: number;
  /** The explanation's own budget, once the verdict is found. */
  explainMs?: number;
}

/** Exit codes of `dsrun check`. */
export const CheckExit = { linearizable: 0, notLinearizable: 1, unknown: 3 } as const;

/** `dsrun check`: prints the verdict (and a minimal illegal sub-history), returns the exit code. */
export function checkCommand(file: string, options: CheckCommandOptions, print: (line: string) => void): number {
  const model = (options.model === 'kv' ? kvModel() : registerModel(null)) as Model<unknown, unknown, unknown>;
  const { ops: history } = parseHistory(readFileSync(file, 'utf8'), options.model);
  const started = performance.now();
  const result = checkLinearizability(history, model, { timeoutMs: options.timeoutMs, explainMs: options.explainMs });
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  print(`${file}: ${history.length} operations, ${result.partitions} partition(s): ${result.verdict} (${seconds} s)`);
  if (result.verdict === 'unknown') return CheckExit.unknown;
  if (result.verdict === 'linearizable') return CheckExit.linearizable;
  const illegal = result.illegal ?? [];
  print(
    result.minimal
      ? `an illegal sub-history (${illegal.length} operations; writes up to the violation, and only the reads it needs):`
      : `an illegal sub-history (${illegal.length} operations; not minimal: the explanation ran out of time, --explain-timeout gives it more):`,
  );
  print(formatHistory(illegal, model));
  const out = options.out ?? `${file}.html`;
  const partition = model.partition ? model.partition(history)[result.partitionIndex ?? 0] : history;
  writeFileSync(
    out,
    renderHistoryHtml(partition, {
      title: `${basename(file)}: not linearizable`,
      describe: (op) => (model.describe ? model.describe(op) : JSON.stringify(op.input)),
      highlight: illegal.map((w) => partition.find((o) => o.client === w.client && o.call === w.call) ?? w),
      verdict: `${illegal.length} operations in red cannot be ordered legally.`,
    }),
  );
  print(`drawn in ${out}`);
  return CheckExit.notLinearizable;
}
