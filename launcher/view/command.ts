import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseTrace, type TraceEvent } from '../../runtime/protocol/trace-event.ts';
import { renderHtml } from './space-time-html.ts';
import { renderText } from './space-time-text.ts';
import { computeReport, formatReport } from './run-report.ts';
import { buildModel, describeDifference, firstDifference } from './page/model.js';

export interface ViewOptions {
  /** Where to write the HTML page (default: the trace's name with .html). */
  out?: string;
  /** Print the plain-text form instead. */
  text?: boolean;
  /** Print the run report (traffic per rank and tag, marked operations) instead. */
  report?: boolean;
  /** A JSON file mapping tag names to numbers (an algorithm's Tag table) or numbers to names. */
  tags?: string;
  /** A second trace to compare with (the page shows both, aligned by logical time). */
  compare?: string;
}

/** Reads `{ "Prepare": 1, … }` or `{ "1": "Prepare", … }` into number → name. */
function readTagNames(file: string): Record<number, string> {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string | number>;
  const names: Record<number, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v === 'number') names[v] = k;
    else names[Number(k)] = v;
  }
  return names;
}

/** Where two runs first differ, in one line (the page's banner says the same). */
export function compareSummary(a: readonly TraceEvent[], b: readonly TraceEvent[]): string {
  return describeDifference(firstDifference(buildModel({ events: a }), buildModel({ events: b })));
}

/**
 * `dsrun view`: renders a trace file; returns the path written (HTML) or the text, and with
 * `compare` where the two runs first differ.
 */
export function view(traceFile: string, options: ViewOptions = {}): { written?: string; text?: string; difference?: string } {
  const events = parseTrace(readFileSync(traceFile, 'utf8'));
  const tagNames = options.tags ? readTagNames(options.tags) : {};
  if (options.report) return { text: formatReport(computeReport(events)) };
  if (options.text) return { text: renderText(events, tagNames) };
  const out = options.out ?? traceFile.replace(/(\.jsonl)?$/, '.html');
  const compare = options.compare
    ? { events: parseTrace(readFileSync(options.compare, 'utf8')), title: basename(options.compare) }
    : undefined;
  writeFileSync(out, renderHtml(events, { title: basename(traceFile), tagNames, compare }));
  return { written: out, difference: compare && compareSummary(events, compare.events) };
}
