// Drawing one run on a canvas: a lane per rank, an arrow per message, marks for notes and faults,
// an axis on top. Only what is in view is drawn, and a label only where it fits without touching
// another: the labels placed are kept in `view.labels` (the page's own layout data).

const LABEL_W = 86;
const AXIS_H = 30;
const COLORS = {
  p2p: '#1c5fb8',
  collective: '#8a5cc2',
  'one-sided': '#0c8599',
  dropped: '#d6336c',
  past: '#2b8a3e',
  future: '#d9480f',
  selected: '#f08c00',
  lane: '#adb5bd',
  note: '#5c3d99',
  match: '#fcc419',
};

/** Position of an event along the axis of the current layout. */
function eventU(view, e) {
  return view.layout === 'logical' ? e.level : e.u;
}

function dropU(view, m) {
  return view.layout === 'logical' ? m.drop.level : m.drop.u;
}

/**
 * Where each message lies along a layout's axis, from its send to its last delivery or drop, with
 * the messages sorted by start: drawing finds those in view by binary search. Built once per layout.
 */
function messageSpans(model, layout) {
  model.spans = model.spans || {};
  if (model.spans[layout]) return model.spans[layout];
  const view = { layout };
  const count = model.messages.length;
  const start = new Float64Array(count);
  const end = new Float64Array(count);
  let maxSpan = 0;
  for (const m of model.messages) {
    let uEnd = -Infinity;
    for (const d of m.deliveries) uEnd = Math.max(uEnd, eventU(view, model.events[d]));
    if (m.drop) uEnd = Math.max(uEnd, dropU(view, m));
    const u0 = m.send >= 0 ? eventU(view, model.events[m.send]) : uEnd;
    start[m.index] = u0;
    end[m.index] = Math.max(u0, uEnd);
    maxSpan = Math.max(maxSpan, end[m.index] - u0);
  }
  const order = Int32Array.from(model.messages.keys()).sort((a, b) => start[a] - start[b] || a - b);
  return (model.spans[layout] = { start, end, order, maxSpan });
}

/** Messages that pass the filters and overlap [uMin, uMax], in order of their start. */
function messagesInView(view, geo, uMin, uMax) {
  const { start, end, order, maxSpan } = messageSpans(view.model, view.layout);
  let lo = 0;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (start[order[mid]] < uMin - maxSpan) lo = mid + 1;
    else hi = mid;
  }
  const out = [];
  for (let k = lo; k < order.length; k++) {
    const i = order[k];
    if (start[i] > uMax) break;
    if (end[i] < uMin) continue;
    const m = view.model.messages[i];
    if (!messageShown(view, m, geo) || (m.send >= 0 && !revealed(view, m.send))) continue;
    out.push(m);
  }
  return out;
}

/** The ranks shown, in order (a rank filter hides the others' lanes). */
function shownRanks(view) {
  const out = [];
  for (let r = 0; r < view.model.ranks; r++) if (!view.filter.ranks || view.filter.ranks.has(r)) out.push(r);
  return out;
}

function laneGeometry(view, height) {
  const ranks = shownRanks(view);
  const laneH = Math.max(14, Math.min(120, (height - AXIS_H - 24) / Math.max(1, ranks.length)));
  const row = new Int32Array(view.model.ranks).fill(-1);
  ranks.forEach((r, i) => (row[r] = i));
  return { ranks, laneH, row, y: (r) => AXIS_H + 16 + row[r] * laneH + laneH / 2 - view.scrollY };
}

/** Whether a message passes the filters (ranks, names, traffic kinds, dropped only). */
function messageShown(view, m, geo) {
  const f = view.filter;
  if (geo.row[m.from] < 0 || geo.row[m.to] < 0) return false;
  if (f.hiddenNames.has(m.label)) return false;
  if (!f.traffic[m.traffic]) return false;
  if (f.onlyDropped && !m.drop) return false;
  return true;
}

/** Whether the playback has revealed event index i. */
function revealed(view, i) {
  return view.step === null || i < view.step;
}

/** Sizes a canvas's pixels to its CSS size at the screen's pixel ratio; drawing is then in CSS pixels. */
function fitCanvas(canvas) {
  const ctx = canvas.getContext('2d');
  const dpr = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
  }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return { ctx, width, height };
}

function drawRun(canvas, view, camera) {
  const started = performance.now();
  const { ctx, width, height } = fitCanvas(canvas);
  ctx.clearRect(0, 0, width, height);
  ctx.font = '11px system-ui, sans-serif';
  const model = view.model;
  const geo = laneGeometry(view, height);
  view.geo = geo;
  const x = (u) => LABEL_W + (u - camera.left) * camera.scale;
  const uMin = camera.left - 1;
  const uMax = camera.left + (width - LABEL_W) / camera.scale + 1;
  const highlight = view.causal;
  const faded = (i) => highlight && !highlight.past[i] && !highlight.future[i];
  const placed = new LabelSpace(width, height);
  view.labels = [];
  view.hits = [];

  // Idle stretches (real time) as hatched bands; partitions as shaded bands.
  if (view.layout === 'time') {
    for (const s of model.time.segments) {
      if (!s.idle || s.u1 < uMin || s.u0 > uMax) continue;
      ctx.fillStyle = '#f1f3f5';
      ctx.fillRect(x(s.u0), AXIS_H, Math.max(2, x(s.u1) - x(s.u0)), height - AXIS_H);
      ctx.strokeStyle = '#ced4da';
      ctx.setLineDash([3, 3]);
      ctx.beginPath();
      ctx.moveTo(x(s.u0), AXIS_H);
      ctx.lineTo(x(s.u0), height);
      ctx.moveTo(x(s.u1), AXIS_H);
      ctx.lineTo(x(s.u1), height);
      ctx.stroke();
      ctx.setLineDash([]);
    }
  }
  for (const g of model.global) {
    if (g.ev !== 'partition') continue;
    const heal = model.global.find(
      (h) => h.ev === 'heal' && h.t >= g.t && String(h.from) === String(g.from) && String(h.to) === String(g.to),
    );
    const endT = heal ? heal.t : (g.untilMs ?? model.duration);
    const [u0, u1] = view.layout === 'logical' ? levelSpan(model, g.t, endT) : [timeToU(model.time, g.t), timeToU(model.time, endT)];
    ctx.fillStyle = 'rgba(240,140,0,0.10)';
    ctx.fillRect(x(u0), AXIS_H, Math.max(2, x(u1) - x(u0)), height - AXIS_H);
    ctx.fillStyle = '#b35c00';
    ctx.fillText(`partition ${[].concat(g.from).join(',')} ${g.oneWay ? '→' : '↮'} ${[].concat(g.to).join(',')}`, x(u0) + 4, AXIS_H + 12);
  }

  // Lanes.
  for (const r of geo.ranks) {
    const y = geo.y(r);
    if (y < AXIS_H - 10 || y > height + 10) continue;
    ctx.strokeStyle = COLORS.lane;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(LABEL_W, y);
    ctx.lineTo(width, y);
    ctx.stroke();
  }

  // Messages: faded ones first, then the rest, so highlighted arrows sit on top.
  const order = messagesInView(view, geo, uMin, uMax);
  const weight = (m) => (view.selected && view.selected.message === m.index ? 3 : highlight && m.send >= 0 && !faded(m.send) ? 2 : 1);
  order.sort((a, b) => weight(a) - weight(b));
  ctx.dsmpiStyle = {};
  // Thousands of arrows in view overlap into a texture: their heads would add nothing but time.
  const heads = order.length <= DENSE;
  for (const m of order) drawMessage(ctx, view, m, x, geo, highlight, faded, heads);
  ctx.globalAlpha = 1;

  // Local events: notes, faults, lifecycle.
  model.marks = model.marks || model.events.filter((e) => e.ev !== 'send' && e.ev !== 'deliver');
  for (const e of model.marks) {
    if (!revealed(view, e.index) || geo.row[e.rank] < 0) continue;
    if (e.ev === 'note' ? !view.filter.notes : !view.filter.faults) continue;
    const u = eventU(view, e);
    if (u < uMin || u > uMax) continue;
    const px = x(u);
    const py = geo.y(e.rank);
    if (py < AXIS_H || py > height) continue;
    ctx.globalAlpha = faded(e.index) ? 0.2 : 1;
    drawEventMark(ctx, e, px, py, view);
    view.hits.push({ event: e.index, x: px, y: py });
    if (e.ev === 'note') {
      const text = noteText(e);
      const w = textWidth(ctx, text);
      // Centred over its mark, kept right of the rank names, a few pixels clear of other labels.
      const box = { x: Math.max(LABEL_W + 2, px - w / 2 - 3), y: py - geo.laneH / 2 + 1, w: w + 6, h: 12 };
      if (geo.laneH >= 26 && box.x + box.w <= width && placed.free(box)) {
        placed.add(box);
        ctx.fillStyle = 'rgba(255,255,255,0.85)';
        ctx.fillRect(box.x + 1, box.y, box.w - 2, box.h);
        ctx.fillStyle = COLORS.note;
        ctx.fillText(text, box.x + 3, box.y + 10);
        view.labels.push({ text, ...box });
      }
    }
    ctx.globalAlpha = 1;
  }

  // Message labels, most important first, each only where it fits.
  for (let k = order.length - 1; k >= 0; k--) placeMessageLabel(ctx, view, order[k], x, geo, placed, faded);

  // Search matches: a ring round each.
  if (view.matches) {
    ctx.strokeStyle = COLORS.match;
    ctx.lineWidth = 3;
    for (const i of view.matches) {
      const e = model.events[i];
      if (!revealed(view, i) || geo.row[e.rank] < 0) continue;
      const px = x(eventU(view, e));
      if (px < LABEL_W || px > width) continue;
      ctx.beginPath();
      ctx.arc(px, geo.y(e.rank), i === view.currentMatch ? 9 : 6, 0, Math.PI * 2);
      ctx.stroke();
    }
  }
  if (view.differenceLevel !== undefined && view.layout === 'logical') {
    const px = x(view.differenceLevel);
    ctx.strokeStyle = '#e03131';
    ctx.setLineDash([6, 4]);
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.moveTo(px, AXIS_H);
    ctx.lineTo(px, height);
    ctx.stroke();
    ctx.setLineDash([]);
  }

  drawAxis(ctx, view, camera, width, x, uMin, uMax);
  drawLaneLabels(ctx, view, geo, height);
  view.lastDrawMs = performance.now() - started;
  return view.lastDrawMs;
}

function levelSpan(model, t0, t1) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const e of model.events) {
    if (e.t >= t0 && e.t <= t1) {
      lo = Math.min(lo, e.level);
      hi = Math.max(hi, e.level);
    }
  }
  return lo === Infinity ? [0, 0] : [lo - 0.5, hi + 0.5];
}

function messageColor(view, m, highlight) {
  if (view.selected && view.selected.message === m.index) return COLORS.selected;
  if (highlight && m.send >= 0) {
    if (highlight.future[m.send]) return COLORS.future;
    if (m.deliveries.some((d) => highlight.past[d]) || highlight.past[m.send]) return COLORS.past;
  }
  return m.drop && m.deliveries.length === 0 ? COLORS.dropped : COLORS[m.traffic];
}

/** More messages in view than this, and arrows are drawn without heads. */
const DENSE = 2500;

function drawMessage(ctx, view, m, x, geo, highlight, faded, heads) {
  const model = view.model;
  const s = m.send >= 0 ? model.events[m.send] : undefined;
  const color = messageColor(view, m, highlight);
  const dim = highlight && (!s || (faded(s.index) && !m.deliveries.some((d) => !faded(d))));
  // Styles set only when they change: a canvas parses every colour it is given.
  setStyle(ctx, dim ? 0.12 : 1, color, view.selected && view.selected.message === m.index ? 3 : highlight && !dim ? 2 : 1.2);
  const x1 = s ? x(eventU(view, s)) : undefined;
  const y1 = geo.y(m.from);
  const y2 = geo.y(m.to);
  for (const d of m.deliveries) {
    const e = model.events[d];
    const x2 = x(eventU(view, e));
    if (x1 === undefined) {
      ctx.beginPath();
      ctx.arc(x2, y2, 3, 0, Math.PI * 2);
      ctx.fill();
      continue;
    }
    const inFlight = !revealed(view, d);
    if (inFlight) ctx.setLineDash([4, 4]);
    ctx.beginPath();
    ctx.moveTo(x1, y1);
    ctx.lineTo(x2, y2);
    ctx.stroke();
    if (inFlight) ctx.setLineDash([]);
    else if (heads) arrowHead(ctx, x1, y1, x2, y2);
    view.hits.push({ message: m.index, x1, y1, x2, y2 });
  }
  if (m.drop && x1 !== undefined && revealed(view, m.send)) {
    const xd = x(dropU(view, m));
    const yd = y1 + (y2 - y1) / 2;
    setStyle(ctx, ctx.globalAlpha, COLORS.dropped, ctx.lineWidth);
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    ctx.moveTo(x1, y1);
    ctx.lineTo(xd, yd);
    ctx.stroke();
    ctx.setLineDash([]);
    setStyle(ctx, ctx.globalAlpha, COLORS.dropped, 2);
    ctx.beginPath();
    ctx.moveTo(xd - 4, yd - 4);
    ctx.lineTo(xd + 4, yd + 4);
    ctx.moveTo(xd + 4, yd - 4);
    ctx.lineTo(xd - 4, yd + 4);
    ctx.stroke();
    view.hits.push({ message: m.index, x1, y1, x2: xd, y2: yd });
  }
}

/** Sets alpha, colour (stroke and fill) and line width, each only if it differs from the last set by drawRun. */
function setStyle(ctx, alpha, color, width) {
  const last = ctx.dsmpiStyle || (ctx.dsmpiStyle = {});
  if (last.alpha !== alpha) ctx.globalAlpha = last.alpha = alpha;
  if (last.color !== color) ctx.strokeStyle = ctx.fillStyle = last.color = color;
  if (last.width !== width) ctx.lineWidth = last.width = width;
}

function arrowHead(ctx, x1, y1, x2, y2) {
  const len = Math.hypot(x2 - x1, y2 - y1);
  if (len < 10) return;
  const ux = (x2 - x1) / len;
  const uy = (y2 - y1) / len;
  ctx.beginPath();
  ctx.moveTo(x2, y2);
  ctx.lineTo(x2 - ux * 8 - uy * 3.5, y2 - uy * 8 + ux * 3.5);
  ctx.lineTo(x2 - ux * 8 + uy * 3.5, y2 - uy * 8 - ux * 3.5);
  ctx.closePath();
  ctx.fill();
}

function placeMessageLabel(ctx, view, m, x, geo, placed, faded) {
  const model = view.model;
  if (m.send < 0) return;
  const s = model.events[m.send];
  if (faded(s.index) && !m.deliveries.some((d) => !faded(d))) return;
  const end = m.deliveries.length ? model.events[m.deliveries[0]] : undefined;
  if (end ? !revealed(view, end.index) : !m.drop) return; // in flight, or never arrived
  const x1 = x(eventU(view, s));
  const y1 = geo.y(m.from);
  const x2 = end ? x(eventU(view, end)) : x(dropU(view, m));
  const y2 = end ? geo.y(m.to) : y1 + (geo.y(m.to) - y1) / 2;
  const text = m.label;
  const w = textWidth(ctx, text);
  const len = Math.hypot(x2 - x1, y2 - y1);
  if (len < w + 18) return;
  // Centred on the arrow, at a third of its way from the sender, where fewer arrows cross.
  for (const f of [0.5, 0.35, 0.65]) {
    const cx = x1 + (x2 - x1) * f;
    const cy = y1 + (y2 - y1) * f;
    const box = { x: cx - w / 2 - 2, y: cy - 7, w: w + 4, h: 13 };
    if (box.x < LABEL_W || box.x + box.w > placed.width || box.y < AXIS_H || box.y + box.h > placed.height) continue;
    if (!placed.free(box)) continue;
    placed.add(box);
    ctx.fillStyle = 'rgba(255,255,255,0.85)';
    ctx.fillRect(box.x, box.y, box.w, box.h);
    ctx.fillStyle = messageColor(view, m, view.causal);
    ctx.fillText(text, box.x + 2, box.y + 10);
    view.labels.push({ text, message: m.index, ...box });
    return;
  }
}

const widths = new Map();
function textWidth(ctx, text) {
  let w = widths.get(text);
  if (w === undefined) {
    w = ctx.measureText(text).width;
    widths.set(text, w);
  }
  return w;
}

/** A note as its label: the name, then the value (an object's fields as `key value`), cut at 24 characters. */
function noteText(e) {
  if (e.value === undefined) return e.name;
  const v =
    typeof e.value === 'string'
      ? e.value
      : e.value && typeof e.value === 'object' && !Array.isArray(e.value)
        ? Object.entries(e.value)
            .map(([k, x]) => `${k} ${JSON.stringify(x)}`)
            .join(' ')
        : JSON.stringify(e.value);
  return `${e.name} ${v.length > 24 ? v.slice(0, 23) + '…' : v}`;
}

function drawEventMark(ctx, e, px, py) {
  ctx.lineWidth = 2;
  switch (e.ev) {
    case 'note':
      ctx.fillStyle = COLORS.note;
      ctx.beginPath();
      ctx.moveTo(px, py - 5);
      ctx.lineTo(px + 5, py);
      ctx.lineTo(px, py + 5);
      ctx.lineTo(px - 5, py);
      ctx.closePath();
      ctx.fill();
      break;
    case 'crash':
      ctx.strokeStyle = '#c92a2a';
      ctx.lineWidth = 3;
      ctx.beginPath();
      ctx.moveTo(px - 6, py - 6);
      ctx.lineTo(px + 6, py + 6);
      ctx.moveTo(px + 6, py - 6);
      ctx.lineTo(px - 6, py + 6);
      ctx.stroke();
      break;
    case 'restart':
      ctx.strokeStyle = '#2b8a3e';
      ctx.beginPath();
      ctx.arc(px, py, 5, 0.3, Math.PI * 1.8);
      ctx.stroke();
      break;
    case 'exit':
      ctx.fillStyle = '#495057';
      ctx.beginPath();
      ctx.arc(px, py, 3.5, 0, Math.PI * 2);
      ctx.fill();
      break;
    default:
      ctx.strokeStyle = '#868e96';
      ctx.strokeRect(px - 3, py - 3, 6, 6);
  }
}

function drawAxis(ctx, view, camera, width, x, uMin, uMax) {
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, AXIS_H);
  ctx.strokeStyle = '#dee2e6';
  ctx.beginPath();
  ctx.moveTo(0, AXIS_H - 0.5);
  ctx.lineTo(width, AXIS_H - 0.5);
  ctx.stroke();
  ctx.fillStyle = '#495057';
  ctx.fillText(view.layout === 'logical' ? 'logical step' : 'time (ms)', 6, 18);
  if (view.layout === 'logical') {
    const every = niceStep(60 / camera.scale);
    for (let u = Math.max(0, Math.ceil(uMin / every) * every); u <= uMax; u += every) tick(ctx, x(u), String(u));
    return;
  }
  for (const s of view.model.time.segments) {
    if (s.u1 < uMin || s.u0 > uMax) continue;
    if (s.idle) {
      const mid = (x(s.u0) + x(s.u1)) / 2;
      const long = `≈ idle ${formatMs(s.t1 - s.t0)}`;
      const text = textWidth(ctx, long) + 4 < x(s.u1) - x(s.u0) ? long : '≈';
      ctx.fillStyle = '#868e96';
      ctx.fillText(text, mid - textWidth(ctx, text) / 2, 12);
      continue;
    }
    const msPerU = 1;
    const every = niceStep(90 / camera.scale) * msPerU;
    for (let t = Math.ceil(s.t0 / every) * every; t <= s.t1; t += every) {
      const px = x(s.u0 + (t - s.t0));
      if (px < LABEL_W || px > width) continue;
      tick(ctx, px, formatMs(t));
    }
  }
}

function tick(ctx, px, text) {
  if (px < LABEL_W) return;
  ctx.strokeStyle = '#adb5bd';
  ctx.beginPath();
  ctx.moveTo(px, AXIS_H - 6);
  ctx.lineTo(px, AXIS_H);
  ctx.stroke();
  ctx.fillStyle = '#495057';
  ctx.fillText(text, px + 2, AXIS_H - 10);
}

function niceStep(raw) {
  const p = Math.pow(10, Math.floor(Math.log10(Math.max(raw, 1e-9))));
  for (const k of [1, 2, 5, 10]) if (k * p >= raw) return k * p;
  return 10 * p;
}

function formatMs(ms) {
  if (ms >= 1000) return `${+(ms / 1000).toPrecision(3)} s`;
  return `${+ms.toPrecision(4)} ms`;
}

function drawLaneLabels(ctx, view, geo, height) {
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, AXIS_H, LABEL_W - 4, height - AXIS_H);
  ctx.font = `600 ${geo.laneH >= 20 ? 12 : 10}px system-ui, sans-serif`;
  ctx.fillStyle = '#212529';
  for (const r of geo.ranks) {
    const y = geo.y(r);
    if (y < AXIS_H + 4 || y > height) continue;
    ctx.fillText(`rank ${r}`, 10, y + 4);
  }
  ctx.font = '11px system-ui, sans-serif';
}

/** Placed label boxes, bucketed by 64-pixel cells so a check looks at few boxes. */
class LabelSpace {
  constructor(width, height) {
    this.width = width;
    this.height = height;
    this.cells = new Map();
  }
  /** Calls visit(cellKey) for each cell the box touches, until visit returns false. */
  cellsOf(box, visit) {
    const x1 = Math.floor((box.x + box.w) / 64);
    const y1 = Math.floor((box.y + box.h) / 64);
    for (let cx = Math.floor(box.x / 64); cx <= x1; cx++)
      for (let cy = Math.floor(box.y / 64); cy <= y1; cy++) if (visit(cx * 65536 + cy) === false) return false;
    return true;
  }
  free(box) {
    return this.cellsOf(box, (key) => {
      const list = this.cells.get(key);
      if (list)
        for (const b of list) if (box.x < b.x + b.w && b.x < box.x + box.w && box.y < b.y + b.h && b.y < box.y + box.h) return false;
      return true;
    });
  }
  add(box) {
    this.cellsOf(box, (key) => {
      const list = this.cells.get(key);
      if (list) list.push(box);
      else this.cells.set(key, [box]);
    });
  }
}

/** The message or event under a point: the nearest within 6 pixels. */
function hitTest(view, px, py) {
  let best;
  let bestD = 6;
  for (const h of view.hits) {
    let d;
    if (h.event !== undefined) d = Math.hypot(px - h.x, py - h.y) - 2;
    else {
      const dx = h.x2 - h.x1;
      const dy = h.y2 - h.y1;
      const len2 = dx * dx + dy * dy || 1;
      const k = Math.max(0, Math.min(1, ((px - h.x1) * dx + (py - h.y1) * dy) / len2));
      d = Math.hypot(px - (h.x1 + k * dx), py - (h.y1 + k * dy));
    }
    if (d < bestD) {
      bestD = d;
      best = h;
    }
  }
  return best;
}
