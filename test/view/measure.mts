// Measures the viewer on a synthetic run of 10,000 messages among 64 ranks in headless Chromium:
// first render, zoom, pan, rank filter, click (a selection with its causal highlight) and hover.
// For each interaction it reports two medians over several page loads: the wall-clock time from the
// event until the page has drawn the next frame, and the CPU time of the page's main thread meanwhile (Chromium's
// ThreadTime metric), which a loaded machine inflates far less. docs/viewer.md reports its output.
//   node --import tsx test/view/measure.mts [loads=5] [--profile] [--against <other checkout>]
// --against measures the page another checkout of the project renders too, page loads alternating,
// and prints the ratios (a same-run comparison). --profile prints where the first load's time went.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CDPSession } from 'playwright-core';
import { renderHtml } from '../../launcher/view/space-time-html.ts';
import { bigTrace } from './big-trace.ts';
import { load, openBrowser } from './browser.ts';

const args = process.argv.slice(2);
const loads = Number(args.find((a) => /^\d+$/.test(a)) ?? 5);
const profile = args.includes('--profile');
const against = args.includes('--against') ? resolve(args[args.indexOf('--against') + 1]) : undefined;
const dir = mkdtempSync(join(tmpdir(), 'dsmpi-measure-'));
const events = bigTrace(10_000, 64);
const pages: Array<{ name: string; file: string }> = [{ name: 'this checkout', file: join(dir, 'big.html') }];
writeFileSync(pages[0].file, renderHtml(events, { title: 'big' }));
if (against) {
  const other = (await import(pathToFileURL(join(against, 'launcher/view/space-time-html.ts')).href)) as { renderHtml: typeof renderHtml };
  pages.push({ name: against, file: join(dir, 'other.html') });
  writeFileSync(pages[1].file, other.renderHtml(events, { title: 'big' }));
}

/**
 * The interactions, as the page's own calls (strings: run in the page, not compiled here). Each
 * returns the wall-clock milliseconds from the event until the next frame is drawn. Zoom: 1.6× in five times from the whole run,
 * then out; pan: 40 px; filter: the rank filter typed; click: a message selected (causal past and
 * future computed, details shown, redrawn) and cleared; hover: the pointer moving over the diagram.
 */
const timed = (body: string): string =>
  `(async () => { const v = window.dsmpiView; const t0 = performance.now(); ${body}; ` +
  `await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))); return performance.now() - t0; })()`;
const steps: Array<[string, string]> = [
  ...[1.6, 1.6, 1.6, 1.6, 1.6, 1 / 1.6, 1 / 1.6, 1 / 1.6, 1 / 1.6, 1 / 1.6].map((f): [string, string] => ['zoom', timed(`v.zoom(${f})`)]),
  ...[1, 2, 3, 4, 5].map((): [string, string] => ['pan', timed('v.camera.left += 40 / v.camera.scale; v.render()')]),
  ...['0-15', '3,9,27', '', '40-63', ''].map((r): [string, string] => [
    'filter',
    timed(`const i = document.getElementById('ranks'); i.value = '${r}'; i.dispatchEvent(new Event('input'))`),
  ]),
  ...[1, 2, 3, 4, 5].map((k): [string, string] => [
    'click',
    timed(`v.select(0, { message: Math.floor((${k} * v.views[0].model.messages.length) / 6) })`),
  ]),
  ['click', timed('v.select(0, null)')],
  ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((k): [string, string] => [
    'hover',
    timed(
      `const b = document.getElementById('canvas-0').getBoundingClientRect(); ` +
        `window.dispatchEvent(new MouseEvent('mousemove', { clientX: b.left + ${k / 10} * b.width, clientY: b.top + ${k / 10} * b.height }))`,
    ),
  ]),
];

async function threadMs(cdp: CDPSession): Promise<number> {
  const { metrics } = await cdp.send('Performance.getMetrics');
  return metrics.find((m) => m.name === 'ThreadTime')!.value * 1000;
}

const session = await openBrowser(1400, 900);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
// figures[page][name] = { wall: [...], cpu: [...] }
const figures = pages.map(() => new Map<string, { wall: number[]; cpu: number[] }>());
const record = (page: number, name: string, wall: number, cpu: number): void => {
  const f = figures[page].get(name) ?? { wall: [], cpu: [] };
  f.wall.push(wall);
  f.cpu.push(cpu);
  figures[page].set(name, f);
};
try {
  const cdp = await session.context.newCDPSession(session.page);
  await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
  for (let i = 0; i < loads * pages.length; i++) {
    const which = i % pages.length;
    if (profile && i === 0) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
      await cdp.send('Profiler.start');
    }
    const before = await threadMs(cdp);
    await load(session.page, pages[which].file);
    const first = (await session.page.evaluate('window.dsmpiView.firstRenderMs')) as number;
    const after = await threadMs(cdp);
    record(which, 'load to drawn', first, after < before ? after : after - before); // a new page restarts the count
    for (const [name, js] of steps) {
      const t0 = await threadMs(cdp);
      const wall = (await session.page.evaluate(js)) as number;
      record(which, name, wall, (await threadMs(cdp)) - t0);
    }
    if (profile && i === 0) {
      const { profile: p } = await cdp.send('Profiler.stop');
      const self = new Map<string, number>();
      const dt = new Map<number, number>();
      p.samples!.forEach((id, k) => dt.set(id, (dt.get(id) ?? 0) + (p.timeDeltas![k] ?? 0)));
      for (const n of p.nodes) {
        const key = `${n.callFrame.functionName || '(anonymous)'}:${n.callFrame.lineNumber}`;
        self.set(key, (self.get(key) ?? 0) + (dt.get(n.id) ?? 0) / 1000);
      }
      process.stdout.write('where the first load went (self time, sampled):\n');
      for (const [k, ms] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20))
        process.stdout.write(`  ${ms.toFixed(1).padStart(8)} ms  ${k}\n`);
    }
  }
  process.stdout.write(`10,000 messages, 64 ranks, ${loads} page loads each; medians in ms: wall clock / main-thread CPU (samples)\n`);
  process.stdout.write(
    `  ${''.padEnd(14)}${pages.map((p) => p.name.slice(-26).padStart(28)).join('')}${against ? '   ratio (CPU)' : ''}\n`,
  );
  for (const name of figures[0].keys()) {
    const cell = (f: { wall: number[]; cpu: number[] }): string =>
      `${median(f.wall).toFixed(1)} / ${median(f.cpu).toFixed(1)} (${f.cpu.length})`.padStart(28);
    const cells = figures.map((f) => cell(f.get(name)!));
    const ratio = against ? `   ${(median(figures[0].get(name)!.cpu) / median(figures[1].get(name)!.cpu)).toFixed(2)}` : '';
    process.stdout.write(`  ${name.padEnd(14)}${cells.join('')}${ratio}\n`);
  }
} finally {
  await session.close();
  rmSync(dir, { recursive: true, force: true });
}
