// The run as the page sees it: each rank's events in order with vector clocks and logical steps,
// the messages between them, and the two time axes (real time with idle stretches compressed,
// logical steps). No drawing here. An ES module for Node (`dsrun view --compare` prints the first
// difference; model.d.ts types it) that the page inlines as a plain script, its `export`s stripped.

/** What kind of traffic a message is: the program's point-to-point, a collective's, or one-sided. */
function trafficKind(e) {
  if (e.kind === 1 || e.kind === 2) return 'one-sided';
  return e.ctx !== undefined && e.ctx % 2 === 1 ? 'collective' : 'p2p';
}

function messageLabel(m) {
  if (m.name) return m.name;
  if (m.traffic === 'collective') return 'collective';
  if (m.traffic === 'one-sided') return m.kind === 2 ? 'one-sided reply' : 'one-sided';
  return m.tag === undefined ? 'message' : `tag ${m.tag}`;
}

const RANK_EVENTS = new Set(['send', 'deliver', 'note', 'crash', 'restart', 'exit', 'detect', 'pause', 'resume', 'op', 'untraced']);
const FAULTS = new Set(['drop', 'crash', 'restart', 'detect', 'partition', 'heal', 'pause', 'resume', 'untraced']);

export function rankCountOf(events) {
  let max = -1;
  const see = (v) => {
    for (const r of Array.isArray(v) ? v : v === undefined ? [] : [v]) if (r > max) max = r;
  };
  for (const e of events) {
    see(e.rank);
    see(e.from);
    see(e.to);
  }
  return max + 1;
}

/**
 * Builds the model of one run. `run.events` are trace events in trace order (a causal order: every
 * delivery after its send). Returns ranks, events (the rank-local ones carry `rank`, `seq`, their
 * vector clock in `vc` and their logical step in `level`), messages and global marks.
 */
export function buildModel(run) {
  const raw = run.events;
  const n = Math.max(1, rankCountOf(raw));
  const clocks = Array.from({ length: n }, () => new Int32Array(n));
  const lastLevel = new Int32Array(n);
  const events = [];
  const messages = [];
  const byKey = new Map();
  const global = [];
  const drops = [];
  const t0 = raw.reduce((min, e) => Math.min(min, e.t), 0);
  let duration = 0;
  for (const src of raw) {
    const e = { ...src, t: src.t - t0 };
    duration = Math.max(duration, e.t);
    if (e.ev === 'partition' || e.ev === 'heal') {
      global.push(e);
      continue;
    }
    if (e.ev === 'drop' || e.ev === 'duplicate' || e.ev === 'reorder') {
      const m = byKey.get(`${e.rank}:${e.msg}`);
      if (m && e.ev === 'drop') {
        m.drop = { t: e.t, reason: e.reason };
        drops.push(m);
      }
      if (m && e.ev === 'duplicate') m.duplicated = true;
      continue;
    }
    if (!RANK_EVENTS.has(e.ev) || typeof e.rank !== 'number') continue;
    const r = e.rank;
    const vc = clocks[r];
    let level = lastLevel[r] + 1;
    if (e.ev === 'deliver') {
      let m = byKey.get(`${e.from}:${e.msg}`);
      if (!m) {
        // Its sender left no trace: a message without a send.
        m = newMessage(e, e.from, r, messages.length);
        messages.push(m);
      } else {
        const sent = events[m.send];
        if (sent) {
          for (let i = 0; i < n; i++) if (sent.vc[i] > vc[i]) vc[i] = sent.vc[i];
          level = Math.max(level, sent.level + 1);
        }
      }
      e.message = m.index;
      m.deliveries.push(events.length);
    }
    vc[r]++;
    e.seq = vc[r];
    e.vc = vc.slice();
    e.level = level;
    lastLevel[r] = level;
    e.index = events.length;
    if (e.ev === 'send' && typeof e.to === 'number') {
      const m = newMessage(e, r, e.to, messages.length);
      m.send = e.index;
      e.message = m.index;
      byKey.set(`${r}:${e.msg}`, m);
      messages.push(m);
    }
    events.push(e);
  }
  for (const m of drops) {
    const sent = events[m.send];
    m.drop.level = sent ? sent.level + 0.5 : 0;
  }
  const maxLevel = events.reduce((max, e) => Math.max(max, e.level), 0);
  const byRank = Array.from({ length: n }, () => []);
  for (const e of events) byRank[e.rank].push(e.index);
  const names = new Map();
  for (const m of messages) names.set(m.label, (names.get(m.label) || 0) + 1);
  const time = timeAxis(events, global, Math.max(duration, 1e-3));
  // Positions on the real-time axis, once: drawing reads them for every event in view.
  for (const e of events) e.u = timeToU(time, e.t);
  for (const m of drops) m.drop.u = timeToU(time, m.drop.t);
  return {
    title: run.title,
    seed: run.seed,
    command: run.command,
    ranks: n,
    duration: Math.max(duration, 1e-3),
    events,
    byRank,
    messages,
    global,
    maxLevel,
    names: [...names.entries()].sort((a, b) => b[1] - a[1]),
    faults: faultList(events, messages, global),
    time,
  };
}

function newMessage(e, from, to, index) {
  const m = {
    index,
    from,
    to,
    msg: e.msg,
    tag: e.tag,
    ctx: e.ctx,
    kind: e.kind,
    bytes: e.bytes,
    name: e.name,
    preview: e.preview,
    traffic: trafficKind(e),
    send: -1,
    deliveries: [],
    drop: undefined,
  };
  m.label = messageLabel(m);
  return m;
}

/** Faults in time order, for "next fault": drops, crashes, restarts, partitions, pauses, losses. */
function faultList(events, messages, global) {
  const out = [];
  for (const e of events) if (FAULTS.has(e.ev)) out.push({ t: e.t, event: e.index, what: `${e.ev} on rank ${e.rank}` });
  for (const m of messages) if (m.drop) out.push({ t: m.drop.t, message: m.index, what: `${m.label} ${m.from} → ${m.to} dropped` });
  for (const g of global) if (g.ev === 'partition') out.push({ t: g.t, global: g, what: 'partition' });
  return out.sort((a, b) => a.t - b.t);
}

/**
 * The real-time axis: times map to positions 1:1, except idle stretches (gaps between consecutive
 * events much longer than the usual gap) which shrink to a fixed short width and are marked.
 */
function timeAxis(events, global, duration) {
  const times = [0, duration];
  for (const e of events) times.push(e.t);
  for (const g of global) times.push(g.t);
  times.sort((a, b) => a - b);
  const gaps = [];
  for (let i = 1; i < times.length; i++) if (times[i] > times[i - 1]) gaps.push(times[i] - times[i - 1]);
  const sorted = [...gaps].sort((a, b) => a - b);
  const typical = sorted.length ? sorted[Math.floor(sorted.length * 0.9)] : duration;
  const idleAbove = Math.max(duration * 0.03, typical * 8);
  const idle = [];
  for (let i = 1; i < times.length; i++) if (times[i] - times[i - 1] > idleAbove) idle.push([times[i - 1], times[i]]);
  const idleTotal = idle.reduce((s, [a, b]) => s + (b - a), 0);
  const shrunk = Math.max((duration - idleTotal) * 0.04, 1e-6);
  const segments = [];
  let t = 0;
  let u = 0;
  for (const [a, b] of idle) {
    segments.push({ t0: t, t1: a, u0: u, u1: u + (a - t), idle: false });
    u += a - t;
    segments.push({ t0: a, t1: b, u0: u, u1: u + shrunk, idle: true });
    u += shrunk;
    t = b;
  }
  segments.push({ t0: t, t1: duration, u0: u, u1: u + (duration - t), idle: false });
  return { segments, length: u + (duration - t) };
}

/** The first index i in [0, count) for which before(i) is false (count if none); before must hold for a prefix. */
function firstNotBefore(count, before) {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (before(mid)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Position on the real-time axis of time `t`. */
function timeToU(axis, t) {
  const s = axis.segments;
  const g =
    s[
      Math.min(
        s.length - 1,
        firstNotBefore(s.length, (i) => s[i].t1 < t),
      )
    ];
  if (g.t1 === g.t0) return g.u0;
  return g.u0 + ((Math.min(Math.max(t, g.t0), g.t1) - g.t0) / (g.t1 - g.t0)) * (g.u1 - g.u0);
}

/** Whether event a happened before event b (or is b): a's own count is covered by b's clock. */
export function happenedBefore(a, b) {
  return a.seq <= b.vc[a.rank];
}

/**
 * The causal past and future of event e, as a cut per rank: an event f is in the past when
 * f.seq <= past[f.rank] (e itself included), in the future when f.seq >= future[f.rank]. A rank's
 * vector clocks only grow, so each is a prefix or a suffix of the rank's events: found with one
 * binary search per rank, then asked in constant time (no pass over all events).
 */
export function causalCone(model, e) {
  const past = Int32Array.from(e.vc);
  const future = new Int32Array(model.ranks);
  for (let r = 0; r < model.ranks; r++) {
    const list = model.byRank[r];
    // seq counts a rank's events from 1
    future[r] = firstNotBefore(list.length, (i) => model.events[list[i]].vc[e.rank] < e.seq) + 1;
  }
  future[e.rank] = e.seq + 1;
  const events = model.events;
  return {
    past,
    future,
    inPast: (i) => events[i].seq <= past[events[i].rank],
    inFuture: (i) => events[i].seq >= future[events[i].rank],
  };
}

/**
 * Search: every word of the query must match an event. `rank:2` (or `r2`), `from:1`, `to:3` pick
 * ranks; other words match the message name, event type, note name or value, or the payload
 * preview, ignoring case, spaces, quotes and brackets (so `(3,1)` matches `"ballot":[3,1]`).
 */
function searchEvents(model, query) {
  const flat = (s) =>
    String(s)
      .toLowerCase()
      .replace(/[\s"'()[\]{}]/g, '');
  const words = query
    .trim()
    .split(/\s+/)
    .filter((w) => w && !['with', 'and', 'of'].includes(w.toLowerCase()));
  if (words.length === 0) return [];
  const tests = words.map((w) => {
    const pick = /^(rank|r|from|to):?(\d+)$/i.exec(w);
    if (pick) {
      const rank = Number(pick[2]);
      const field = pick[1].toLowerCase();
      if (field === 'from') return (e, m) => (m ? m.from === rank : false);
      if (field === 'to') return (e, m) => (m ? m.to === rank : false);
      return (e) => e.rank === rank;
    }
    const needle = flat(w);
    return (e, m, text) => text.includes(needle);
  });
  const hits = [];
  for (const e of model.events) {
    if (e.ev === 'deliver') continue; // a message is found at its send
    const m = e.message === undefined ? undefined : model.messages[e.message];
    const text = flat(
      `${e.ev} ${m ? m.label : ''} ${e.name || ''} ${e.value === undefined ? '' : JSON.stringify(e.value)} ${m && m.preview ? m.preview : ''}`,
    );
    if (tests.every((test) => test(e, m, text))) hits.push(e.index);
  }
  return hits;
}

/** One line per rank-local event, comparable across runs: what happened, with whom, named how. */
function signature(model, e) {
  const m = e.message === undefined ? undefined : model.messages[e.message];
  if (e.ev === 'send') return `send ${m.label} to ${m.to}${m.preview ? ' ' + m.preview : ''}`;
  if (e.ev === 'deliver') return `receive ${m.label} from ${m.from}${m.preview ? ' ' + m.preview : ''}`;
  if (e.ev === 'note') return `note ${e.name}${e.value === undefined ? '' : ' ' + JSON.stringify(e.value)}`;
  return e.ev;
}

/**
 * Where two runs first differ: walks each rank's events in order and returns the earliest
 * (smallest logical step) event whose signature differs, or undefined if they are the same.
 */
export function firstDifference(a, b) {
  const perRank = (model) => {
    const lists = Array.from({ length: model.ranks }, () => []);
    for (const e of model.events) lists[e.rank].push(e);
    return lists;
  };
  const ra = perRank(a);
  const rb = perRank(b);
  let best;
  for (let r = 0; r < Math.max(ra.length, rb.length); r++) {
    const xa = ra[r] || [];
    const xb = rb[r] || [];
    for (let i = 0; i < Math.max(xa.length, xb.length); i++) {
      const ea = xa[i];
      const eb = xb[i];
      const sa = ea ? signature(a, ea) : 'nothing more';
      const sb = eb ? signature(b, eb) : 'nothing more';
      if (sa === sb) continue;
      const level = Math.min(ea ? ea.level : Infinity, eb ? eb.level : Infinity);
      if (!best || level < best.level)
        best = { rank: r, position: i + 1, level, a: sa, b: sb, eventA: ea && ea.index, eventB: eb && eb.index };
      break;
    }
  }
  return best;
}

/** The first difference in words (what the page's banner and `dsrun view --compare` say). */
export function describeDifference(d) {
  if (!d) return 'The two runs are the same, event for event on every rank.';
  return `First difference at logical step ${d.level}, rank ${d.rank}, its event ${d.position}: left: ${d.a} · right: ${d.b}`;
}
