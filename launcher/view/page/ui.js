// The page: builds the model of each run embedded in it (one, or two to compare), draws them on
// canvases sharing one camera, and wires the controls: layouts, zoom and pan, the overview strip,
// filters, search, faults, playback and the details panel. `window.dsmpiView` exposes the state
// (timings, placed labels, hit areas) to tests.

const pageStart = performance.now();
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const runs = window.DSMPI_RUNS;
const filter = {
  ranks: null,
  hiddenNames: new Set(),
  traffic: { p2p: true, collective: true, 'one-sided': true },
  onlyDropped: false,
  notes: true,
  faults: true,
};
const views = runs.map((run) => ({
  model: buildModel(run),
  layout: runs.length > 1 ? 'logical' : 'time',
  filter,
  step: null,
  scrollY: 0,
  selected: null,
  causal: null,
  matches: null,
  currentMatch: -1,
  labels: [],
  hits: [],
  inView: [],
}));
const canvases = views.map((_, i) => $(`canvas-${i}`));
const camera = { scale: 1, left: 0 };
const state = { search: [], searchAt: -1, faultAt: -1, active: 0 };

function axisLength(view) {
  return view.layout === 'logical' ? view.model.maxLevel + 1 : view.model.time.length;
}

function fit() {
  const width = canvases[0].clientWidth - LABEL_W - 24;
  const length = Math.max(...views.map(axisLength), 1e-6);
  camera.scale = width / length;
  camera.left = view0().layout === 'logical' ? 0 : -length * 0.005;
}

const view0 = () => views[0];

function render() {
  const started = performance.now();
  views.forEach((v, i) => drawRun(canvases[i], v, camera));
  drawOverview();
  $('zoom').textContent =
    view0().layout === 'logical' ? `${camera.scale.toPrecision(3)} px per step` : `${(1 / camera.scale).toPrecision(3)} ms per pixel`;
  api.lastRenderMs = performance.now() - started;
  return api.lastRenderMs;
}

// ---- overview strip: where the traffic is along the whole run, and the part in view ----

function drawOverview() {
  const { ctx, width, height } = fitCanvas($('overview'));
  const view = view0();
  const length = Math.max(...views.map(axisLength), 1e-6);
  const span = width - LABEL_W;
  const { bins, drops } = overviewBins(view, length, Math.max(1, Math.floor(span)));
  const peak = Math.max(1, ...bins);
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = '#f8f9fa';
  ctx.fillRect(LABEL_W, 0, span, height);
  for (const [color, lost] of [
    ['#5c7cfa', 0],
    ['#d6336c', 1],
  ]) {
    ctx.fillStyle = color;
    ctx.beginPath();
    for (let i = 0; i < bins.length; i++) {
      if (!bins[i] || drops[i] !== lost) continue;
      const h = Math.max(1, (bins[i] / peak) * (height - 6));
      ctx.rect(LABEL_W + i, height - h, 1, h);
    }
    ctx.fill();
  }
  const x0 = LABEL_W + (camera.left / length) * span;
  const w = ((canvases[0].clientWidth - LABEL_W) / camera.scale / length) * span;
  ctx.strokeStyle = '#f08c00';
  ctx.lineWidth = 2;
  ctx.strokeRect(Math.max(LABEL_W, x0), 1, Math.max(3, Math.min(w, span)), height - 2);
  ctx.fillStyle = '#495057';
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillText('overview', 8, height / 2 + 4);
}

/** Messages sent per pixel column of the overview (and whether one was lost), kept until the layout or width changes. */
function overviewBins(view, length, count) {
  const key = `${view.layout} ${count} ${length}`;
  if (view.overview && view.overview.key === key) return view.overview;
  const bins = new Float64Array(count);
  const drops = new Uint8Array(count);
  for (const m of view.model.messages) {
    if (m.send < 0) continue;
    const b = Math.min(count - 1, Math.floor((eventU(view, view.model.events[m.send]) / length) * count));
    bins[b]++;
    if (m.drop) drops[b] = 1;
  }
  view.overview = { key, bins, drops };
  return view.overview;
}

function overviewJump(ev) {
  const canvas = $('overview');
  const rect = canvas.getBoundingClientRect();
  const span = rect.width - LABEL_W;
  const length = Math.max(...views.map(axisLength), 1e-6);
  const u = ((ev.clientX - rect.left - LABEL_W) / span) * length;
  camera.left = u - (canvases[0].clientWidth - LABEL_W) / camera.scale / 2;
  render();
}

// ---- camera ----

function zoom(factor, atClientX) {
  const rect = canvases[0].getBoundingClientRect();
  const px = (atClientX ?? rect.left + (rect.width + LABEL_W) / 2) - rect.left - LABEL_W;
  const u = camera.left + px / camera.scale;
  camera.scale = Math.min(1e7, Math.max(1e-7, camera.scale * factor));
  camera.left = u - px / camera.scale;
  return render();
}

/** Moves the camera so that position u is in view (centred if it was out of view). */
function reveal(u) {
  const visible = (canvases[0].clientWidth - LABEL_W) / camera.scale;
  if (u < camera.left + visible * 0.05 || u > camera.left + visible * 0.95) camera.left = u - visible / 2;
}

function revealEvent(view, e) {
  reveal(eventU(view, e));
  const geo = view.geo;
  if (!geo || geo.row[e.rank] < 0) return;
  const canvas = canvases[views.indexOf(view)];
  const y = geo.y(e.rank);
  if (y < AXIS_H + 10 || y > canvas.clientHeight - 10) view.scrollY = Math.max(0, view.scrollY + y - canvas.clientHeight / 2);
}

// ---- selection, causal highlight and details ----

function select(viewIndex, what) {
  const view = views[viewIndex];
  views.forEach((v) => {
    v.selected = null;
    v.causal = null;
  });
  if (!what) {
    $('details').innerHTML = 'Click a message or an event: its details here, its causal past in green and future in orange.';
    return render();
  }
  state.active = viewIndex;
  view.selected = what;
  const model = view.model;
  if (what.message !== undefined) {
    const m = model.messages[what.message];
    const anchor = m.send >= 0 ? model.events[m.send] : model.events[m.deliveries[0]];
    // Its delivery's future lies in its send's: the send's past and future are the message's.
    view.causal = causalCone(model, anchor);
    showMessage(view, m);
  } else {
    const e = model.events[what.event];
    view.causal = causalCone(model, e);
    showEvent(view, e);
  }
  return render();
}

function vcText(e) {
  return `[${Array.from(e.vc).join(', ')}]`;
}

function rows(list) {
  return `<table>${list.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>`;
}

function showMessage(view, m) {
  const ev = (i) => view.model.events[i];
  const at = (e) => `${e.t.toFixed(3)} ms · logical step ${e.level} · Lamport ${e.lamport ?? '?'} · vector ${vcText(e)}`;
  $('details').innerHTML =
    `<h3>${esc(m.label)} <small>rank ${m.from} → rank ${m.to}</small></h3>` +
    rows([
      ['payload', m.preview ?? '(not traced)'],
      [
        'message',
        `number ${m.msg} of rank ${m.from}; ${m.traffic}${m.tag !== undefined ? `, tag ${m.tag}` : ''}${m.ctx !== undefined ? `, context ${m.ctx}` : ''}`,
      ],
      ['size', m.bytes === undefined ? '' : `${m.bytes} bytes`],
      ...(m.send >= 0 ? [['sent', at(ev(m.send))]] : []),
      ...m.deliveries.map((d, k) => [m.deliveries.length > 1 ? `delivered (copy ${k + 1})` : 'delivered', at(ev(d))]),
      ...(m.drop ? [['dropped', `${m.drop.t.toFixed(3)} ms (${m.drop.reason ?? 'lost'})`]] : []),
    ]);
}

function showEvent(view, e) {
  if (e.message !== undefined) return showMessage(view, view.model.messages[e.message]);
  $('details').innerHTML =
    `<h3>${esc(e.ev === 'note' ? e.name : e.ev)} <small>rank ${e.rank}</small></h3>` +
    rows([
      ...(e.ev === 'note' ? [['value', e.value === undefined ? '' : JSON.stringify(e.value)]] : []),
      ['at', `${e.t.toFixed(3)} ms · logical step ${e.level} · vector ${vcText(e)}`],
      ...(e.reason ? [['reason', e.reason]] : []),
      ...(e.from !== undefined ? [['rank lost', String(e.from)]] : []),
    ]);
}

// ---- search and faults ----

function runSearch() {
  const view = views[state.active];
  state.search = searchEvents(view.model, $('search').value);
  state.searchAt = -1;
  view.matches = new Set(state.search);
  view.currentMatch = -1;
  $('search-count').textContent = $('search').value.trim() ? `${state.search.length} found` : '';
  render();
}

function nextMatch(delta) {
  if (state.search.length === 0) return;
  const view = views[state.active];
  state.searchAt = (state.searchAt + delta + state.search.length) % state.search.length;
  const e = view.model.events[state.search[state.searchAt]];
  view.currentMatch = e.index;
  $('search-count').textContent = `${state.searchAt + 1} of ${state.search.length}`;
  revealEvent(view, e);
  select(state.active, e.message !== undefined ? { message: e.message } : { event: e.index });
}

function nextFault() {
  const view = views[state.active];
  const faults = view.model.faults;
  if (faults.length === 0) {
    $('fault-where').textContent = 'no faults';
    return;
  }
  state.faultAt = (state.faultAt + 1) % faults.length;
  const f = faults[state.faultAt];
  $('fault-where').textContent = `${state.faultAt + 1} of ${faults.length}: ${f.what}`;
  if (f.message !== undefined) {
    const m = view.model.messages[f.message];
    if (m.send >= 0) reveal(dropU(view, m));
    select(state.active, { message: f.message });
  } else if (f.event !== undefined) {
    revealEvent(view, view.model.events[f.event]);
    select(state.active, { event: f.event });
  } else {
    reveal(timeToU(view.model.time, f.t));
    render();
  }
}

// ---- playback ----

function setStep(step) {
  const view = views[state.active];
  const total = view.model.events.length;
  view.step = step === null ? null : Math.max(0, Math.min(total, step));
  if (view.step !== null && view.step > 0) revealEvent(view, view.model.events[view.step - 1]);
  showPlayback(view);
  render();
}

function showPlayback(view) {
  const total = view.model.events.length;
  if (view.step === null) {
    $('step-where').textContent = `all ${total} events`;
    $('notes').innerHTML = '';
    return;
  }
  const lastNote = new Array(view.model.ranks);
  const lastEvent = new Array(view.model.ranks);
  for (let i = 0; i < view.step; i++) {
    const e = view.model.events[i];
    lastEvent[e.rank] = e;
    if (e.ev === 'note') lastNote[e.rank] = e;
  }
  const current = view.step > 0 ? view.model.events[view.step - 1] : undefined;
  $('step-where').textContent = `event ${view.step} of ${total}${current ? `: ${describe(view, current)}` : ''}`;
  const list = [];
  for (let r = 0; r < view.model.ranks; r++) {
    if (filter.ranks && !filter.ranks.has(r)) continue;
    const note = lastNote[r];
    list.push(`<li><b>rank ${r}</b> ${note ? esc(noteText(note)) : '<i>no note yet</i>'}</li>`);
  }
  $('notes').innerHTML = `<h3>Each rank's last note</h3><ul>${list.join('')}</ul>`;
}

function describe(view, e) {
  const m = e.message === undefined ? undefined : view.model.messages[e.message];
  if (e.ev === 'send') return `rank ${e.rank} sends ${m.label} to rank ${m.to}`;
  if (e.ev === 'deliver') return `rank ${e.rank} receives ${m.label} from rank ${m.from}`;
  if (e.ev === 'note') return `rank ${e.rank} notes ${noteText(e)}`;
  return `rank ${e.rank}: ${e.ev}${e.reason ? ` (${e.reason})` : ''}`;
}

let playing;
function togglePlay() {
  if (playing) {
    clearInterval(playing);
    playing = undefined;
    $('play').textContent = '▶ play';
    return;
  }
  const view = views[state.active];
  if (view.step === null || view.step >= view.model.events.length) setStep(0);
  $('play').textContent = '❚❚ pause';
  playing = setInterval(() => {
    if (view.step >= view.model.events.length) return togglePlay();
    setStep(view.step + 1);
  }, 250);
}

// ---- filters ----

function parseRanks(text) {
  if (!text.trim()) return null;
  const set = new Set();
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+))?\s*$/.exec(part);
    if (!m) return undefined;
    for (let r = Number(m[1]); r <= Number(m[2] ?? m[1]); r++) set.add(r);
  }
  return set;
}

function buildNameFilter() {
  const names = new Map();
  for (const v of views) for (const [name, count] of v.model.names) names.set(name, (names.get(name) || 0) + count);
  $('names').innerHTML = [...names.entries()]
    .map(
      ([name, count]) => `<label><input type="checkbox" data-name="${esc(name)}" checked> ${esc(name)} <small>(${count})</small></label>`,
    )
    .join('');
}

function applyFilters() {
  const ranks = parseRanks($('ranks').value);
  $('ranks').classList.toggle('bad', ranks === undefined);
  filter.ranks = ranks === undefined ? null : ranks;
  filter.hiddenNames = new Set([...document.querySelectorAll('#names input')].filter((i) => !i.checked).map((i) => i.dataset.name));
  for (const kind of ['p2p', 'collective', 'one-sided']) filter.traffic[kind] = $(`show-${kind}`).checked;
  filter.onlyDropped = $('only-dropped').checked;
  filter.notes = $('show-notes').checked;
  filter.faults = $('show-faults').checked;
  views.forEach((v) => (v.scrollY = 0));
  return render();
}

function setLayout(layout) {
  views.forEach((v) => (v.layout = layout));
  document.querySelectorAll('input[name=layout]').forEach((i) => (i.checked = i.value === layout));
  fit();
  return render();
}

// ---- wiring ----

function wire() {
  document.querySelectorAll('input[name=layout]').forEach((i) => i.addEventListener('change', () => setLayout(i.value)));
  $('zoom-in').addEventListener('click', () => zoom(1.5));
  $('zoom-out').addEventListener('click', () => zoom(1 / 1.5));
  $('zoom-fit').addEventListener('click', () => {
    fit();
    render();
  });
  $('search').addEventListener('input', runSearch);
  $('search').addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') nextMatch(ev.shiftKey ? -1 : 1);
  });
  $('search-next').addEventListener('click', () => nextMatch(1));
  $('search-prev').addEventListener('click', () => nextMatch(-1));
  $('next-fault').addEventListener('click', nextFault);
  $('step-back').addEventListener('click', () => setStep((views[state.active].step ?? 1) - 1));
  $('step-forward').addEventListener('click', () => setStep((views[state.active].step ?? 0) + 1));
  $('step-start').addEventListener('click', () => setStep(0));
  $('step-all').addEventListener('click', () => setStep(null));
  $('play').addEventListener('click', togglePlay);
  for (const id of ['ranks', 'show-p2p', 'show-collective', 'show-one-sided', 'only-dropped', 'show-notes', 'show-faults'])
    $(id).addEventListener(id === 'ranks' ? 'input' : 'change', applyFilters);
  $('names').addEventListener('change', applyFilters);
  const overview = $('overview');
  let dragging = false;
  overview.addEventListener('mousedown', (ev) => {
    dragging = true;
    overviewJump(ev);
  });
  window.addEventListener('mousemove', (ev) => dragging && overviewJump(ev));
  window.addEventListener('mouseup', () => (dragging = false));
  canvases.forEach((canvas, i) => wireCanvas(canvas, i));
  document.addEventListener('keydown', (ev) => {
    if (ev.target instanceof HTMLInputElement) return;
    const step = views[state.active].step;
    if (ev.key === 'ArrowRight') setStep((step ?? 0) + 1);
    else if (ev.key === 'ArrowLeft') setStep((step ?? 1) - 1);
    else if (ev.key === 'Home') setStep(0);
    else if (ev.key === 'End') setStep(null);
    else if (ev.key === ' ') togglePlay();
    else if (ev.key === 'n') nextMatch(1);
    else if (ev.key === 'f') nextFault();
    else if (ev.key === '+' || ev.key === '=') zoom(1.5);
    else if (ev.key === '-') zoom(1 / 1.5);
    else if (ev.key === 'Escape') select(state.active, null);
    else return;
    ev.preventDefault();
  });
  window.addEventListener('resize', render);
}

function wireCanvas(canvas, i) {
  let drag;
  canvas.addEventListener(
    'mousedown',
    (ev) => (drag = { x: ev.clientX, y: ev.clientY, left: camera.left, top: views[i].scrollY, moved: false }),
  );
  window.addEventListener('mousemove', (ev) => {
    if (!drag) return;
    if (Math.abs(ev.clientX - drag.x) + Math.abs(ev.clientY - drag.y) > 3) drag.moved = true;
    if (!drag.moved) return;
    camera.left = drag.left - (ev.clientX - drag.x) / camera.scale;
    views[i].scrollY = Math.max(0, drag.top - (ev.clientY - drag.y));
    render();
  });
  window.addEventListener('mouseup', (ev) => {
    if (!drag) return;
    const click = !drag.moved;
    drag = undefined;
    if (!click || ev.target !== canvas) return;
    const rect = canvas.getBoundingClientRect();
    const hit = hitTest(views[i], ev.clientX - rect.left, ev.clientY - rect.top);
    select(i, hit ? (hit.message !== undefined ? { message: hit.message } : { event: hit.event }) : null);
  });
  canvas.addEventListener(
    'wheel',
    (ev) => {
      ev.preventDefault();
      if (ev.ctrlKey || ev.metaKey) return zoom(ev.deltaY < 0 ? 1.25 : 0.8, ev.clientX);
      const view = views[i];
      const lanes = AXIS_H + 24 + (view.geo ? view.geo.ranks.length * view.geo.laneH : 0);
      if (!ev.shiftKey && Math.abs(ev.deltaY) > Math.abs(ev.deltaX) && lanes > canvas.clientHeight) {
        view.scrollY = Math.max(0, Math.min(lanes - canvas.clientHeight, view.scrollY + ev.deltaY));
      } else {
        camera.left += (ev.shiftKey ? ev.deltaY : ev.deltaX || ev.deltaY) / camera.scale;
      }
      render();
    },
    { passive: false },
  );
}

function showDifference() {
  if (views.length < 2) return;
  const d = firstDifference(views[0].model, views[1].model);
  if (!d) {
    $('difference').textContent = describeDifference(d);
    return;
  }
  views.forEach((v) => (v.differenceLevel = d.level - 0.5));
  $('difference').innerHTML =
    `<b>First difference</b> at logical step ${d.level}, rank ${d.rank}, its event ${d.position}: ` +
    `<span class="a">left: ${esc(d.a)}</span> · <span class="b">right: ${esc(d.b)}</span>`;
  api.difference = d;
  reveal(d.level);
}

const api = {
  views,
  camera,
  filter,
  render,
  zoom,
  select,
  setLayout,
  setStep,
  applyFilters,
  firstRenderMs: 0,
  /** Of which building the models (vector clocks, steps, axes). */
  modelMs: performance.now() - pageStart,
  lastRenderMs: 0,
  /** Canvas coordinates of a message's arrow, for tests that click it. */
  messageAt(viewIndex, message) {
    return messageLine(views[viewIndex], message);
  },
};
window.dsmpiView = api;
buildNameFilter();
wire();
fit();
showDifference();
showPlayback(view0());
select(0, null); // draws
// A link such as run.html#msg=12 opens with that message selected.
const linked = /^#msg=(\d+)$/.exec(window.location.hash);
if (linked && view0().model.messages[Number(linked[1])]) {
  const m = view0().model.messages[Number(linked[1])];
  if (m.send >= 0) revealEvent(view0(), view0().model.events[m.send]);
  select(0, { message: m.index });
}
api.firstRenderMs = performance.now() - pageStart;
document.body.dataset.ready = 'true';
