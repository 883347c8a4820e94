// The viewer in a real browser (headless Chromium through playwright-core): a 10,000-message run
// drawn and zoomed and filtered in time, the causal highlight of a clicked message checked against
// vector clocks computed here, search, playback, layouts, labels that never overlap, and two runs
// compared. Skipped, saying so, when chromium is not installed.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parseTrace, type TraceEvent } from 'dsmpi';
import { compareSummary } from '../../launcher/view/command.ts';
import { buildModel } from '../../launcher/view/page/model.js';
import { renderHtml } from '../../launcher/view/space-time-html.ts';
import { bigTrace } from './big-trace.ts';
import { chromiumPath, load, openBrowser, type Session } from './browser.ts';

const dir = mkdtempSync(join(tmpdir(), 'dsmpi-viewer-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const page = (name: string, events: readonly TraceEvent[], compare?: readonly TraceEvent[]): string => {
  const file = join(dir, `${name}.html`);
  writeFileSync(file, renderHtml(events, { title: name, compare: compare && { events: compare, title: `${name} (second)` } }));
  return file;
};

const skip = chromiumPath ? false : 'chromium is not installed (apt-get install chromium); the viewer is not tested in a browser';

t.test('the viewer in a browser', { skip }, async (t) => {
  const session: Session = await openBrowser(1400, 900);
  t.teardown(() => session.close());
  const { page: browser } = session;
  /** Writes the page of a run (or two, compared) and opens it in the browser. */
  const open = (name: string, events: readonly TraceEvent[], compare?: readonly TraceEvent[]): Promise<void> =>
    load(browser, page(name, events, compare));

  t.test('10,000 messages, 64 ranks: first render, zoom and filter timed', async (t) => {
    const events = bigTrace(10_000, 64);
    const started = Date.now();
    await open('big', events);
    const loadMs = Date.now() - started;
    const first = await browser.evaluate(() => window.dsmpiView.firstRenderMs);
    const zoomMs: number[] = [];
    for (let i = 0; i < 5; i++) zoomMs.push(await browser.evaluate(() => window.dsmpiView.zoom(1.6)));
    await browser.evaluate(() => window.dsmpiView.zoom(1 / 1.6 ** 5));
    const filterMs: number[] = [];
    for (const ranks of ['0-15', '3,9,27', '', '40-63', '']) {
      await browser.fill('#ranks', ranks);
      filterMs.push(await browser.evaluate(() => window.dsmpiView.lastRenderMs));
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    t.comment(
      `10,000 messages, 64 ranks: page loaded in ${loadMs} ms, first render ${first.toFixed(0)} ms (model + draw), ` +
        `zoom median ${median(zoomMs).toFixed(1)} ms, filter median ${median(filterMs).toFixed(1)} ms`,
    );
    const shown = await browser.evaluate(() => window.dsmpiView.views[0].model.messages.length);
    t.equal(shown, 10_000, 'every message is in the model');
    // Generous bounds: a loaded CI machine is many times slower than the figures in docs/viewer.md.
    t.ok(first < 30_000, `first render ${first.toFixed(0)} ms < 30 s`);
    t.ok(median(zoomMs) < 2_000 && median(filterMs) < 2_000, 'zoom and filter redraw in well under 2 s');
  });

  const paxos = parseTrace(readFileSync(new URL('../../docs/viewer/traces/paxos-drop.jsonl', import.meta.url), 'utf8'));

  t.test('Paxos with drops: labels never overlap in the logical layout, at any zoom', async (t) => {
    await open('paxos', paxos);
    await browser.click('input[name=layout][value=logical]');
    t.equal(await browser.evaluate(() => window.dsmpiView.views[0].layout), 'logical', 'the layout switched');
    for (const factor of [1, 2, 3]) {
      if (factor > 1) await browser.evaluate(() => window.dsmpiView.zoom(2));
      const labels: Label[] = await browser.evaluate(() => window.dsmpiView.views[0].labels);
      t.ok(labels.length > 15, `${labels.length} labels placed`);
      let overlaps = 0;
      for (let i = 0; i < labels.length; i++)
        for (let j = i + 1; j < labels.length; j++) {
          const [a, b] = [labels[i], labels[j]];
          if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) overlaps++;
        }
      t.equal(overlaps, 0, `no two of the ${labels.length} labels overlap (zoom ${2 ** (factor - 1)}×)`);
      t.ok(
        labels.every((l) => l.message === undefined || paxos.some((e) => e.name === l.text) || l.text.startsWith('tag')),
        'labels are message names',
      );
    }
    await browser.click('input[name=layout][value=time]');
    t.equal(await browser.evaluate(() => window.dsmpiView.views[0].layout), 'time');
    t.match(
      await browser.textContent('header'),
      /seed 1 · replay: npx dsrun -n 5 --drop 0\.1 --seed 1/,
      'the page shows the seed and the replay command',
    );
  });

  t.test('a clicked message highlights exactly its causal past and future', async (t) => {
    await open('paxos-click', paxos);
    // Vector clocks of each message's send and deliveries (the model's, checked on a small run by
    // space-time.test.ts), to check the page's highlight against happened-before.
    const model = buildModel({ events: paxos });
    const vectors = model.messages.map((m) => ({
      from: m.from,
      msg: m.msg,
      sendVector: m.send < 0 ? [] : [...model.events[m.send].vc],
      deliveries: m.deliveries.map((d) => ({ vector: [...model.events[d].vc] })),
    }));
    /** The indices of the messages for which `keep` holds. */
    const where = (keep: (m: (typeof vectors)[number], i: number) => boolean): number[] =>
      vectors.flatMap((m, i) => (keep(m, i) ? [i] : []));
    // The first delivered Promise.
    const index = where(
      (m) => m.deliveries.length > 0 && paxos.some((e) => e.ev === 'send' && e.rank === m.from && e.msg === m.msg && e.name === 'Promise'),
    )[0];
    await browser.evaluate((i) => window.dsmpiView.views[0].model.messages[i] && window.dsmpiView.select(0, null), index);
    const hit = await browser.evaluate((i) => {
      const v = window.dsmpiView;
      const m = v.views[0].model.messages[i];
      v.setLayout('logical');
      v.camera.scale = 12;
      v.camera.left = v.views[0].model.events[m.send].level - 20;
      v.render();
      return v.messageAt(0, i);
    }, index);
    t.ok(hit, 'the message is drawn');
    const box = (await browser.locator('#canvas-0').boundingBox())!;
    await browser.mouse.click(box.x + (hit!.x1 + hit!.x2) / 2, box.y + (hit!.y1 + hit!.y2) / 2);
    const state: { selected: unknown; pastSends: number[]; futureSends: number[] } = await browser.evaluate(() => {
      const v = window.dsmpiView.views[0];
      type M = { send: number; index: number };
      return {
        selected: v.selected,
        pastSends: v.model.messages.filter((m: M) => m.send >= 0 && v.causal.inPast(m.send)).map((m: M) => m.index),
        futureSends: v.model.messages.filter((m: M) => m.send >= 0 && v.causal.inFuture(m.send)).map((m: M) => m.index),
      };
    });
    t.same(state.selected, { message: index }, 'the click selected that message');
    const leq = (a: number[], b: number[]): boolean => a.every((x, k) => x <= b[k]);
    const chosen = vectors[index];
    const got = chosen.deliveries[0].vector;
    t.same(
      state.pastSends,
      where((m) => leq(m.sendVector, chosen.sendVector)),
      'causal past: every message sent before it in happened-before order (vector clocks)',
    );
    t.same(
      state.futureSends,
      where((m, i) => i !== index && leq(got, m.sendVector)),
      'causal future: every message sent after its delivery',
    );
    t.ok(
      state.pastSends.length > 1 && state.futureSends.length > 1,
      `${state.pastSends.length} in its past, ${state.futureSends.length} in its future`,
    );
    t.match(await browser.textContent('#details'), /Promise\s*rank \d → rank \d/, 'the details name the message');
    t.match(await browser.textContent('#details'), /payload\{/, 'with its payload preview');
  });

  t.test('search steps through matches; playback steps event by event with notes', async (t) => {
    await open('paxos-search', paxos);
    const accepts = paxos.filter((e) => e.ev === 'send' && e.name === 'Accept' && e.rank === 1);
    await browser.fill('#search', 'Accept rank:1');
    t.equal(await browser.textContent('#search-count'), `${accepts.length} found`);
    await browser.press('#search', 'Enter');
    t.equal(await browser.textContent('#search-count'), `1 of ${accepts.length}`);
    const first = await browser.evaluate(() => {
      const v = window.dsmpiView.views[0];
      const m = v.model.messages[v.selected.message];
      return { name: m.label, from: m.from, msg: m.msg };
    });
    t.same(first, { name: 'Accept', from: 1, msg: accepts[0].msg }, 'Enter selects the first match');
    const ballot = /"ballot":\[(\d+),(\d+)\]/.exec(accepts[0].preview ?? '');
    if (ballot) {
      await browser.fill('#search', `Accept with ballot (${ballot[1]},${ballot[2]})`);
      t.match(await browser.textContent('#search-count'), /^[1-9]\d* found$/, 'payload fields are searchable');
    }
    await browser.click('#next-fault');
    t.match(await browser.textContent('#fault-where'), /^1 of \d+: /, 'faults are listed and visited');
    await browser.locator('body').click({ position: { x: 5, y: 5 } });
    for (let i = 0; i < 6; i++) await browser.keyboard.press('ArrowRight');
    await browser.keyboard.press('ArrowLeft');
    t.equal(await browser.evaluate(() => window.dsmpiView.views[0].step), 5, 'six steps forward, one back');
    t.match(await browser.textContent('#step-where'), /^event 5 of \d+: rank \d/);
    t.match(await browser.textContent('#notes'), /Each rank's last note/, "each rank's last note is shown");
    await browser.keyboard.press('End');
    t.equal(await browser.evaluate(() => window.dsmpiView.views[0].step), null, 'End shows the whole run');
  });

  t.test('two runs compared: aligned by logical step, the first difference found', async (t) => {
    // Two seeds of one program (compare.test.ts knows their first difference by hand).
    const fixture = (seed: number): TraceEvent[] =>
      parseTrace(readFileSync(new URL(`../fixtures/view/three-ranks-seed-${seed}.jsonl`, import.meta.url), 'utf8'));
    const [a, b] = [fixture(1), fixture(2)];
    await open('compare', a, b);
    t.match(await browser.evaluate(() => window.dsmpiView.difference), { rank: 1, position: 1, level: 1 }, 'the difference is found');
    t.equal(await browser.textContent('#difference'), compareSummary(a, b), 'the banner says what dsrun view prints');
    t.equal(await browser.evaluate(() => window.dsmpiView.views.length), 2, 'two diagrams');
    t.equal(await browser.evaluate(() => window.dsmpiView.views[1].layout), 'logical', 'aligned by logical time');
    await open('same', a, a);
    t.match(await browser.textContent('#difference'), /the same, event for event/, 'a run compared with itself has no difference');
  });
});

/** A label the page placed (its own layout data). */
interface Label {
  text: string;
  message?: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

declare global {
  interface Window {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    dsmpiView: any;
  }
}
