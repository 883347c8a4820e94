import { readFileSync } from 'node:fs';
import type { TraceEvent } from '../../runtime/protocol/trace-event.ts';
import { indexMessages, rankCount } from './message-index.ts';
import { computeReport, formatReport, throughputSvg } from './run-report.ts';

export interface HtmlOptions {
  title?: string;
  /** Names for tags (e.g. an algorithm's Tag table, inverted), shown instead of numbers. */
  tagNames?: Record<number, string>;
}

/** Faults and lifecycle events the diagram marks, with the end of those that last. */
interface Mark {
  ev: string;
  t: number;
  rank?: number;
  until?: number;
  label?: string;
  reason?: string;
}

function marks(events: readonly TraceEvent[]): Mark[] {
  const out: Mark[] = [];
  const group = (v: number | number[] | undefined): string => (Array.isArray(v) ? v.join(',') : String(v ?? ''));
  for (const e of events) {
    if (e.ev === 'partition') {
      const label = `${group(e.from)} ${e.oneWay ? '→' : '↮'} ${group(e.to)}`;
      const heal = events.find((h) => h.ev === 'heal' && h.t >= e.t && group(h.from) === group(e.from) && group(h.to) === group(e.to));
      out.push({ ev: 'partition', t: e.t, until: heal?.t ?? e.untilMs, label });
    } else if (e.ev === 'pause') {
      const resume = events.find((r) => r.ev === 'resume' && r.rank === e.rank && r.t >= e.t);
      out.push({ ev: 'pause', t: e.t, rank: e.rank, until: resume?.t ?? e.untilMs });
    } else if (e.ev === 'crash' || e.ev === 'restart' || e.ev === 'exit') {
      out.push({ ev: e.ev, t: e.t, rank: e.rank, reason: e.reason });
    }
  }
  return out;
}

const page = (): string => readFileSync(new URL('./space-time-page.js', import.meta.url), 'utf8');

/** A self-contained HTML page (no network fetches) showing the trace as a space-time diagram. */
export function renderHtml(traced: readonly TraceEvent[], options: HtmlOptions = {}): string {
  // Real runs count time from the moment every rank registered, so the first sends can come before
  // 0: the diagram starts at the earliest event.
  const start = traced.reduce((min, e) => Math.min(min, e.t), 0);
  const events = start < 0 ? traced.map((e) => ({ ...e, t: e.t - start })) : traced;
  const messages = indexMessages(events);
  const run = {
    ranks: rankCount(events),
    duration: events.reduce((max, e) => Math.max(max, e.t), 0),
    messages,
    faults: marks(events),
    tagNames: options.tagNames ?? {},
  };
  const dropped = messages.filter((m) => m.dropped).length;
  const title = options.title ?? 'dsmpi run';
  // `<` escaped so no string inside the data can close the script element.
  const data = JSON.stringify(run).replace(/</g, '\\u003c');
  const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(title)}</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 0; color: #222; }
  header { padding: 10px 16px; border-bottom: 1px solid #ddd; display: flex; gap: 16px; align-items: center; flex-wrap: wrap; }
  header h1 { font-size: 16px; margin: 0; }
  header .summary { color: #555; }
  button { font: inherit; padding: 2px 10px; }
  #chart { overflow: auto; max-height: calc(100vh - 200px); }
  #details { border-top: 1px solid #ddd; padding: 8px 16px; min-height: 40px; max-height: 160px; overflow: auto; color: #333; }
  #details th { text-align: left; padding-right: 12px; font-weight: 600; vertical-align: top; }
  .lane line { stroke: #999; stroke-width: 1; }
  .lane-label { font-weight: 600; fill: #333; }
  .msg { stroke: #3366cc; stroke-width: 1.5; }
  .msg.dropped { stroke: #cc3333; stroke-dasharray: 4 3; }
  .msg.selected { stroke: #e67700; stroke-width: 3; }
  .hit { stroke: transparent; stroke-width: 9; cursor: pointer; }
  .msg-label { font-size: 11px; fill: #335; pointer-events: none; }
  .drop-mark { fill: #cc3333; font-size: 14px; font-weight: 700; }
  .crash { fill: #cc0000; font-size: 18px; }
  .restart { fill: #2b8a3e; font-size: 16px; }
  .exit { fill: #555; }
  .partition { fill: #f08c00; fill-opacity: 0.12; stroke: #f08c00; stroke-dasharray: 6 4; }
  .pause { fill: #868e96; fill-opacity: 0.35; }
  .partition-label { font-size: 11px; fill: #b35c00; }
  .legend span { margin-right: 12px; }
  #report { border-top: 1px solid #ddd; padding: 8px 16px 24px; }
  #report h2 { font-size: 15px; margin: 4px 0; }
</style>
</head>
<body>
<header>
  <h1>${esc(title)}</h1>
  <span class="summary">${run.ranks} ranks · ${messages.length} messages · ${dropped} dropped · ${run.duration.toFixed(3)} ms</span>
  <span><button id="zoom-out" title="zoom out">−</button> <button id="zoom-in" title="zoom in">+</button> <button id="zoom-fit">fit</button> <span id="zoom"></span></span>
  <span class="legend"><span style="color:#3366cc">→ message</span><span style="color:#cc3333">✗ dropped</span><span style="color:#cc0000">✖ crash</span><span style="color:#2b8a3e">↻ restart</span><span style="color:#f08c00">▭ partition</span><span style="color:#868e96">▭ pause</span></span>
  <span class="summary">Click a message for its details; Ctrl + wheel zooms.</span>
</header>
<div id="chart"></div>
<div id="details">No message selected.</div>
<section id="report">
  <h2>Report</h2>
  <pre>${esc(formatReport(computeReport(events, run.ranks)))}</pre>
  ${throughputSvg(events)}
</section>
<script>window.DSMPI_RUN = ${data};</script>
<script>
${page()}
</script>
</body>
</html>
`;
}
