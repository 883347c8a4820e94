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
  const out = [];
  for (let k = firstNotBefore(order.length, (i) => start[order[i]] < uMin - maxSpan); k < order.length; k++) {
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
  view.project = { x, geo };
  const uMin = camera.left - 1;
  const uMax = camera.left + (width - LABEL_W) / camera.scale + 1;
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
      vertical(ctx, x(s.u0), AXIS_H, height);
      vertical(ctx, x(s.u1), AXIS_H, height);
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
  ctx.strokeStyle = COLORS.lane;
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (const r of geo.ranks) {
    const y = geo.y(r);
    if (y < AXIS_H - 10 || y > height + 10) continue;
    ctx.moveTo(LABEL_W, y);
    ctx.lineTo(width, y);
  }
  ctx.stroke();

  // Messages: one by one while few are in view; as a density layer past DETAIL_MAX.
  view.inView = messagesInView(view, geo, uMin, uMax);
  view.dense = view.inView.length > DETAIL_MAX;
  drawArrows(ctx, view, x, geo, width, height);

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
    ctx.globalAlpha = faded(view, e.index) ? 0.2 : 1;
    drawEventMark(ctx, e, px, py);
    view.hits.push({ event: e.index, x: px, y: py });
    if (e.ev === 'note') {
      const text = noteText(e);
      const w = textWidth(ctx, text);
      // Centred over its mark, kept right of the rank names, a few pixels clear of other labels.
      const box = { x: Math.max(LABEL_W + 2, px - w / 2 - 3), y: py - geo.laneH / 2 + 1, w: w + 6, h: 12 };
      if (geo.laneH >= 26 && box.x + box.w <= width && placed.free(box)) placeLabel(ctx, view, placed, box, text, COLORS.note, 3);
    }
    ctx.globalAlpha = 1;
  }

  // Message labels, most important first, each only where it fits (and only where arrows can be told apart).
  if (!view.dense) for (let k = view.inView.length - 1; k >= 0; k--) placeMessageLabel(ctx, view, view.inView[k], x, geo, placed);

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
    ctx.strokeStyle = '#e03131';
    ctx.setLineDash([6, 4]);
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    vertical(ctx, x(view.differenceLevel), AXIS_H, height);
    ctx.stroke();
    ctx.setLineDash([]);
  }

  drawAxis(ctx, view, camera, width, x, uMin, uMax);
  drawLaneLabels(ctx, view, geo, height);
  view.lastDrawMs = performance.now() - started;
  return view.lastDrawMs;
}

/** Adds a vertical line from y0 to y1 at px to the current path. */
function vertical(ctx, px, y0, y1) {
  ctx.moveTo(px, y0);
  ctx.lineTo(px, y1);
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

/** Whether event i is outside the causal past and future of the selection (drawn faded). */
function faded(view, i) {
  return view.causal !== null && !view.causal.inPast(i) && !view.causal.inFuture(i);
}

/**
 * How an arrow is drawn, as one number: its hue's place in HUES, plus HUES.length unless it is faded
 * by a causal highlight. A larger number is drawn over a smaller one (and wins a crowded pixel).
 */
function arrowStyle(view, m) {
  const c = view.causal;
  const base = m.drop && m.deliveries.length === 0 ? 'dropped' : m.traffic;
  if (view.selected && view.selected.message === m.index) return HUES.length + HUE.selected;
  if (!c) return HUES.length + HUE[base];
  if (m.send < 0 || (faded(view, m.send) && m.deliveries.every((d) => faded(view, d)))) return HUE[base];
  if (c.inFuture(m.send)) return HUES.length + HUE.future;
  if (c.inPast(m.send)) return HUES.length + HUE.past;
  return HUES.length + HUE[base];
}

/** Arrow hues, lowest first. */
const HUES = ['p2p', 'collective', 'one-sided', 'dropped', 'past', 'future', 'selected'];
const HUE = Object.fromEntries(HUES.map((h, i) => [h, i]));
const styleColor = (style) => COLORS[HUES[style % HUES.length]];
const styleDim = (style) => style < HUES.length;

function styleWidth(view, style) {
  if (style % HUES.length === HUE.selected) return 3;
  return view.causal && !styleDim(style) ? 2 : 1.2;
}

/** More messages in view than this, and arrows are drawn as a density layer instead of one by one. */
const DETAIL_MAX = 1500;

/**
 * The lines a message is drawn as: to each delivery (`in flight` while playback has not reached
 * it), to where it was dropped, or a point where a message without a send arrived.
 */
function messageSegments(view, m, x, geo) {
  const events = view.model.events;
  const y1 = geo.y(m.from);
  const y2 = geo.y(m.to);
  const out = [];
  if (m.send < 0) {
    for (const d of m.deliveries) {
      const x2 = x(eventU(view, events[d]));
      out.push({ kind: 'point', x1: x2, y1: y2, x2, y2 });
    }
    return out;
  }
  const x1 = x(eventU(view, events[m.send]));
  for (const d of m.deliveries)
    out.push({ kind: revealed(view, d) ? 'delivered' : 'in flight', x1, y1, x2: x(eventU(view, events[d])), y2 });
  if (m.drop && revealed(view, m.send)) out.push({ kind: 'dropped', x1, y1, x2: x(dropU(view, m)), y2: y1 + (y2 - y1) / 2 });
  return out;
}

/**
 * The messages in view, each style's delivered arrows stroked as one path (heads filled as one),
 * lower styles first. In a dense view the delivered arrows go to the density layer instead; lost,
 * in-flight and selected messages are always drawn one by one, over it.
 */
function drawArrows(ctx, view, x, geo, width, height) {
  const raster = view.dense ? arrowRaster(view, width, height) : undefined;
  const byStyle = new Map();
  for (const m of view.inView) {
    const style = arrowStyle(view, m);
    const toRaster = raster && style % HUES.length !== HUE.selected;
    let batch;
    for (const seg of messageSegments(view, m, x, geo)) {
      if (toRaster && seg.kind === 'delivered') {
        rasterLine(raster, seg, style);
        continue;
      }
      batch = batch || byStyle.get(style) || byStyle.set(style, []).get(style);
      batch.push(seg);
    }
  }
  if (raster) ctx.drawImage(paintRaster(raster), 0, 0, width, height);
  for (const style of [...byStyle.keys()].sort((a, b) => a - b)) {
    const segs = byStyle.get(style);
    const color = styleColor(style);
    ctx.globalAlpha = styleDim(style) ? 0.12 : 1;
    ctx.strokeStyle = ctx.fillStyle = color;
    ctx.lineWidth = styleWidth(view, style);
    ctx.beginPath();
    for (const s of segs) {
      if (s.kind !== 'delivered') continue;
      ctx.moveTo(s.x1, s.y1);
      ctx.lineTo(s.x2, s.y2);
    }
    ctx.stroke();
    ctx.beginPath();
    for (const s of segs) if (s.kind === 'delivered') arrowHead(ctx, s.x1, s.y1, s.x2, s.y2);
    ctx.fill();
    for (const s of segs) if (s.kind !== 'delivered') drawSingle(ctx, s, color);
  }
  ctx.globalAlpha = 1;
}

/** A message not delivered (yet): dashed to the delivery in flight, dashed red to a ✗ where lost; a dot where it arrived unsent. */
function drawSingle(ctx, s, color) {
  if (s.kind === 'point') return dot(ctx, s.x2, s.y2, 3);
  const lost = s.kind === 'dropped';
  ctx.strokeStyle = lost ? COLORS.dropped : color;
  ctx.setLineDash(lost ? [4, 3] : [4, 4]);
  ctx.beginPath();
  ctx.moveTo(s.x1, s.y1);
  ctx.lineTo(s.x2, s.y2);
  ctx.stroke();
  ctx.setLineDash([]);
  if (lost) {
    const w = ctx.lineWidth;
    ctx.lineWidth = 2;
    cross(ctx, s.x2, s.y2, 4);
    ctx.lineWidth = w;
  }
  ctx.strokeStyle = color;
}

/** A filled dot of radius r. */
function dot(ctx, px, py, r) {
  ctx.beginPath();
  ctx.arc(px, py, r, 0, Math.PI * 2);
  ctx.fill();
}

/** An ✗ of half-width r centred on (px, py), stroked. */
function cross(ctx, px, py, r) {
  ctx.beginPath();
  ctx.moveTo(px - r, py - r);
  ctx.lineTo(px + r, py + r);
  ctx.moveTo(px + r, py - r);
  ctx.lineTo(px - r, py + r);
  ctx.stroke();
}

/** Adds an arrowhead at (x2, y2) to the current path (none on arrows too short to carry one). */
function arrowHead(ctx, x1, y1, x2, y2) {
  const len = Math.hypot(x2 - x1, y2 - y1);
  if (len < 10) return;
  const ux = (x2 - x1) / len;
  const uy = (y2 - y1) / len;
  ctx.moveTo(x2, y2);
  ctx.lineTo(x2 - ux * 8 - uy * 3.5, y2 - uy * 8 + ux * 3.5);
  ctx.lineTo(x2 - ux * 8 + uy * 3.5, y2 - uy * 8 - ux * 3.5);
  ctx.closePath();
}

/**
 * The density layer, one cell a CSS pixel: each keeps the highest style of the arrows crossing it
 * (`top`, 0 for none, else style + 1) and how much of that style's ink fell on it (`ink`). Its
 * buffers are kept on the view and reused while the canvas keeps its size.
 */
function arrowRaster(view, width, height) {
  const w = Math.ceil(width);
  const h = Math.ceil(height);
  let r = view.raster;
  if (!r || r.w !== w || r.h !== h) {
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext('2d');
    const image = ctx.createImageData(w, h);
    const pixels = new Uint32Array(image.data.buffer);
    r = view.raster = { w, h, canvas, ctx, image, pixels, top: new Uint8Array(w * h), ink: new Float32Array(w * h) };
  } else r.top.fill(0);
  return r;
}

/**
 * Lays one arrow's ink on the density layer: a step of one pixel along its longer axis, the step's
 * ink split between the two pixels nearest the line across it (Wu's antialiasing). The cost is the
 * arrow's length in pixels, whatever the number of arrows in a pixel.
 */
function rasterLine(r, s, style) {
  const v = style + 1;
  if (Math.abs(s.y2 - s.y1) >= Math.abs(s.x2 - s.x1)) inkAlong(r, v, s.y1, s.x1, s.y2, s.x2, r.h, r.w, r.w, 1);
  else inkAlong(r, v, s.x1, s.y1, s.x2, s.y2, r.w, r.h, 1, r.w);
}

/** inkAlong: a runs along the line's longer axis (aSize pixels, aStride apart), b across it. */
function inkAlong(r, v, a1, b1, a2, b2, aSize, bSize, aStride, bStride) {
  const { top, ink } = r;
  const slope = a2 === a1 ? 0 : (b2 - b1) / (a2 - a1);
  const from = Math.max(0, Math.round(Math.min(a1, a2)));
  const to = Math.min(aSize - 1, Math.round(Math.max(a1, a2)));
  for (let a = from; a <= to; a++) {
    const b = b1 + (a + 0.5 - a1) * slope - 0.5;
    const b0 = Math.floor(b);
    const f = b - b0;
    const i = a * aStride + b0 * bStride;
    if (b0 >= 0 && b0 < bSize) {
      if (v > top[i]) {
        top[i] = v;
        ink[i] = 1 - f;
      } else if (v === top[i]) ink[i] += 1 - f;
    }
    const j = i + bStride;
    if (b0 + 1 >= 0 && b0 + 1 < bSize) {
      if (v > top[j]) {
        top[j] = v;
        ink[j] = f;
      } else if (v === top[j]) ink[j] += f;
    }
  }
}

/** Ink levels a pixel's colour tells apart (in steps of 1/INK_STEPS of a stroke), and their colours. */
const INK_STEPS = 8;
const INK_LEVELS = 64;
/**
 * The colour of each style (its place + 1, 0 for none) at each ink level, as ImageData's bytes read
 * little-endian (ABGR): k strokes' ink looks like k overlapping strokes of 70 % opacity.
 */
const INK_COLORS = (() => {
  const out = new Uint32Array((2 * HUES.length + 1) * INK_LEVELS);
  for (let style = 0; style < 2 * HUES.length; style++) {
    const hex = parseInt(styleColor(style).slice(1), 16);
    const abgr = ((hex & 0xff) << 16) | (hex & 0xff00) | (hex >> 16);
    for (let level = 0; level < INK_LEVELS; level++) {
      const alpha = (styleDim(style) ? 0.12 : 1) * (1 - Math.exp((-1.2 * (level + 0.5)) / INK_STEPS));
      out[(style + 1) * INK_LEVELS + level] = ((Math.round(255 * alpha) << 24) | abgr) >>> 0;
    }
  }
  return out;
})();

/** Colours the density layer from its ink and returns its canvas. */
function paintRaster(r) {
  const { top, ink, pixels } = r;
  for (let i = 0; i < pixels.length; i++) {
    const v = top[i];
    pixels[i] = v === 0 ? 0 : INK_COLORS[v * INK_LEVELS + Math.min(INK_LEVELS - 1, (ink[i] * INK_STEPS) | 0)];
  }
  r.ctx.putImageData(r.image, 0, 0);
  return r.canvas;
}

function placeMessageLabel(ctx, view, m, x, geo, placed) {
  const model = view.model;
  if (m.send < 0) return;
  const style = arrowStyle(view, m);
  if (styleDim(style)) return;
  const end = m.deliveries.length ? model.events[m.deliveries[0]] : undefined;
  if (end ? !revealed(view, end.index) : !m.drop) return; // in flight, or never arrived
  const x1 = x(eventU(view, model.events[m.send]));
  const y1 = geo.y(m.from);
  const x2 = end ? x(eventU(view, end)) : x(dropU(view, m));
  const y2 = end ? geo.y(m.to) : y1 + (geo.y(m.to) - y1) / 2;
  const text = m.label;
  const w = textWidth(ctx, text);
  const len = Math.hypot(x2 - x1, y2 - y1);
  if (len < w + 18) return;
  // Centred on the arrow, else at a third of its way from either end, where fewer arrows cross.
  for (const f of [0.5, 0.35, 0.65]) {
    const cx = x1 + (x2 - x1) * f;
    const cy = y1 + (y2 - y1) * f;
    const box = { x: cx - w / 2 - 2, y: cy - 7, w: w + 4, h: 13 };
    if (box.x < LABEL_W || box.x + box.w > placed.width || box.y < AXIS_H || box.y + box.h > placed.height) continue;
    if (!placed.free(box)) continue;
    placeLabel(ctx, view, placed, box, text, styleColor(style), 2, m.index);
    return;
  }
}

/** Draws a label on a white ground in a free box, and keeps the box (placed, and in the page's layout data). */
function placeLabel(ctx, view, placed, box, text, color, pad, message) {
  placed.add(box);
  ctx.fillStyle = 'rgba(255,255,255,0.85)';
  ctx.fillRect(box.x, box.y, box.w, box.h);
  ctx.fillStyle = color;
  ctx.fillText(text, box.x + pad, box.y + 10);
  view.labels.push(message === undefined ? { text, ...box } : { text, message, ...box });
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
      cross(ctx, px, py, 6);
      break;
    case 'restart':
      ctx.strokeStyle = '#2b8a3e';
      ctx.beginPath();
      ctx.arc(px, py, 5, 0.3, Math.PI * 1.8);
      ctx.stroke();
      break;
    case 'exit':
      ctx.fillStyle = '#495057';
      dot(ctx, px, py, 3.5);
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

/**
 * The message or event under a point: the nearest within 6 pixels. Marks were kept as drawn; the
 * messages' lines are worked out again from those last in view (so drawing keeps no hit areas).
 */
function hitTest(view, px, py) {
  let best;
  let bestD = 6;
  const consider = (d, hit) => {
    if (d < bestD) {
      bestD = d;
      best = hit;
    }
  };
  for (const h of view.hits) consider(Math.hypot(px - h.x, py - h.y) - 2, h);
  for (const m of view.inView)
    for (const s of messageSegments(view, m, view.project.x, view.project.geo))
      consider(distanceToLine(px, py, s), { message: m.index, ...s });
  return best;
}

function distanceToLine(px, py, s) {
  const dx = s.x2 - s.x1;
  const dy = s.y2 - s.y1;
  const len2 = dx * dx + dy * dy || 1;
  const k = Math.max(0, Math.min(1, ((px - s.x1) * dx + (py - s.y1) * dy) / len2));
  return Math.hypot(px - (s.x1 + k * dx), py - (s.y1 + k * dy));
}

/** Where a message in view was last drawn: its first line's ends, in canvas coordinates. */
function messageLine(view, index) {
  const m = view.inView.find((x) => x.index === index);
  return m && messageSegments(view, m, view.project.x, view.project.geo)[0];
}
