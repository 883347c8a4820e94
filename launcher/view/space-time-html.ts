import { readFileSync } from 'node:fs';
import { packageFile } from '../package-root.ts';
import type { TraceEvent } from '../../runtime/protocol/trace-event.ts';
import { rankCountOf as rankCount } from './page/model.js';
import { computeReport, formatReport, throughputSvg } from './run-report.ts';

export interface HtmlOptions {
  title?: string;
  /** Names for tags the trace does not name (an old trace, or tags not declared with defineTags). */
  tagNames?: Record<number, string>;
  /** A second run to show below the first, aligned by logical time, with where they first differ. */
  compare?: { events: readonly TraceEvent[]; title?: string };
}

/** The browser side, in the order it runs: the model, the drawing, the page's controls. */
const PAGE_SCRIPTS = ['model.js', 'draw.js', 'ui.js'];
/** The page's script: the files in one function scope (model.js is also a module for Node: its `export`s go). */
const pageScript = (): string =>
  PAGE_SCRIPTS.map((f) => readFileSync(packageFile(`launcher/view/page/${f}`), 'utf8').replace(/^export /gm, '')).join('\n');
const pageStyle = (): string => readFileSync(packageFile('launcher/view/page/page.css'), 'utf8');

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** What the page needs of one run: its events (names filled in from tagNames), title, seed, replay command. */
function runData(events: readonly TraceEvent[], title: string, tagNames: Record<number, string>): Record<string, unknown> {
  const start = events.find((e) => e.ev === 'run');
  const named = events.map((e) =>
    e.name === undefined && e.tag !== undefined && tagNames[e.tag] && e.ev !== 'op' && e.ev !== 'note'
      ? { ...e, name: tagNames[e.tag] }
      : e,
  );
  return { title, seed: start?.seed, command: start?.command, events: named };
}

function replayLine(events: readonly TraceEvent[]): string {
  const start = events.find((e) => e.ev === 'run');
  if (!start) return '<span class="muted">seed and command not in this trace</span>';
  const seed = start.seed === undefined ? '' : `seed <b>${start.seed}</b> · `;
  const command = start.command ?? `simulate({ n: ${rankCount(events)}, seed: ${start.seed}, … }) with the same program and faults`;
  return `${seed}replay: <code id="replay">${esc(command)}</code>`;
}

/** A self-contained HTML page (no network fetches) showing a run (or two) as space-time diagrams. */
export function renderHtml(events: readonly TraceEvent[], options: HtmlOptions = {}): string {
  const title = options.title ?? 'dsmpi run';
  const tagNames = options.tagNames ?? {};
  const runs = [runData(events, title, tagNames)];
  if (options.compare) runs.push(runData(options.compare.events, options.compare.title ?? 'second run', tagNames));
  const sends = events.filter((e) => e.ev === 'send').length;
  const dropped = events.filter((e) => e.ev === 'drop').length;
  const t0 = events.reduce((min, e) => Math.min(min, e.t), 0);
  const duration = events.reduce((max, e) => Math.max(max, e.t), 0) - t0;
  // `<` escaped so no string inside the data can close the script element.
  const data = JSON.stringify(runs).replace(/</g, '\\u003c');
  const diagram = (i: number, caption: string): string =>
    `<div class="run">${runs.length > 1 ? `<div class="caption">${esc(caption)}</div>` : ''}<canvas id="canvas-${i}" class="diagram${runs.length > 1 ? ' half' : ''}"></canvas></div>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(title)}</title>
<style>
${pageStyle()}
</style>
</head>
<body>
<header>
  <h1>${esc(title)}${options.compare ? ` <small>compared with</small> ${esc(options.compare.title ?? 'second run')}` : ''}</h1>
  <span class="summary">${rankCount(events)} ranks · ${sends} messages · ${dropped} dropped · ${duration.toFixed(3)} ms</span>
  <span class="replay">${replayLine(events)}</span>
</header>
<div class="toolbar">
  <span class="group"><b>Layout</b>
    <label><input type="radio" name="layout" value="time"${options.compare ? '' : ' checked'}> real time</label>
    <label><input type="radio" name="layout" value="logical"${options.compare ? ' checked' : ''}> logical</label></span>
  <span class="group"><button id="zoom-out" title="zoom out (-)">−</button><button id="zoom-in" title="zoom in (+)">+</button><button id="zoom-fit">fit</button> <span id="zoom" class="muted"></span></span>
  <span class="group"><input id="search" type="search" placeholder="search: Accept ballot (3,1) rank:2" size="28"><button id="search-prev" title="previous match (Shift+Enter)">◀</button><button id="search-next" title="next match (Enter, n)">▶</button> <span id="search-count" class="muted"></span></span>
  <span class="group"><button id="next-fault" title="next fault (f)">next fault</button> <span id="fault-where" class="muted"></span></span>
  <span class="group"><b>Step</b><button id="step-start" title="start (Home)">|◀</button><button id="step-back" title="back (←)">◀</button><button id="step-forward" title="forward (→)">▶</button><button id="step-all" title="show all (End)">▶|</button><button id="play" title="play (space)">▶ play</button> <span id="step-where" class="muted"></span></span>
</div>
<div class="toolbar filters">
  <span class="group"><b>Ranks</b> <input id="ranks" placeholder="all (e.g. 0-3,7)" size="12"></span>
  <span class="group"><b>Show</b>
    <label><input type="checkbox" id="show-p2p" checked> point-to-point</label>
    <label><input type="checkbox" id="show-collective" checked> collectives</label>
    <label><input type="checkbox" id="show-one-sided" checked> one-sided</label>
    <label><input type="checkbox" id="only-dropped"> only dropped</label>
    <label><input type="checkbox" id="show-notes" checked> notes</label>
    <label><input type="checkbox" id="show-faults" checked> faults</label></span>
  <details class="group"><summary><b>Names</b></summary><div id="names"></div></details>
  <span class="legend"><i style="color:#1c5fb8">→ message</i><i style="color:#d6336c">✗ dropped</i><i style="color:#5c3d99">◆ note</i><i style="color:#c92a2a">✖ crash</i><i style="color:#2b8a3e">past</i><i style="color:#d9480f">future</i></span>
</div>
${options.compare ? '<div id="difference"></div>' : '<div id="difference" hidden></div>'}
<canvas id="overview"></canvas>
${runs.map((r, i) => diagram(i, String(r.title))).join('\n')}
<div class="panels">
  <div id="details"></div>
  <div id="notes"></div>
</div>
${
  options.compare
    ? ''
    : `<section id="report">
  <h2>Report</h2>
  <pre>${esc(formatReport(computeReport(events)))}</pre>
  ${throughputSvg(events)}
</section>`
}
<script>window.DSMPI_RUNS = ${data};</script>
<script>
(function () {
${pageScript()}
})();
</script>
</body>
</html>
`;
}
