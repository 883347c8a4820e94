/**
 * Stateful breadth-first search over roles written as pure state machines (the `serve()` machines
 * of the algorithms: `step(state, input) → [state, out[]]`, `wakeAtMs`, `done`), with the network
 * as a multiset of messages in flight: any message may be delivered next (asynchronous), up to
 * `drops` may be lost, and each node's timer may fire up to its `ticks` budget. Every global state
 * is hashed by a canonical serialization (canonical.ts) and visited once; interchangeable nodes
 * (symmetry groups) are folded into one representative; `always` runs on every new state, and a
 * violation comes back with the shortest path to it (breadth-first order).
 *
 * Machines are deterministic given their inputs, so a node's transitions are computed once per
 * (node state, input) and reused by every global state holding that node state: most transitions
 * are then lookups, not steps.
 *
 * Time: each node has its own clock, which only its timer moves. A tick fires at
 * max(clock, wakeAtMs(state)) (a timer is never early), and every message is delivered at the
 * receiver's clock. The random draw handed to every step is the fixed `random`.
 *
 * The machine interface is restated here (structurally the algorithms' `Machine`) because the
 * simulator does not import the algorithms.
 */
import { tagName } from '../../tag-registry.ts';
import { canonical } from './canonical.ts';

export interface SpaceMessage {
  from: number;
  to: number;
  tag: number;
  data: unknown;
}

export type SpaceInput =
  | { type: 'message'; source: number; tag: number; data: unknown; nowMs: number; random: number }
  | { type: 'tick'; nowMs: number; random: number; failed: readonly number[] };

export interface SpaceMachine<S> {
  step(state: S, input: SpaceInput): [S, readonly { to: number; tag: number; data: unknown }[]];
  wakeAtMs(state: S): number | undefined;
  done(state: S): boolean;
}

export interface SpaceNode<S> {
  rank: number;
  machine: SpaceMachine<S>;
  state: S;
  /** At most this many timer firings (default 0). */
  ticks?: number;
}

/** Ranks that may be exchanged without changing what the system can do (e.g. the acceptors). */
export interface Symmetry<S, H = undefined> {
  /** Each group: ranks that are interchangeable among themselves. */
  groups: number[][];
  /** A copy of `state` with every rank in it renamed by `rank` (the node's own rank too). */
  renameState(state: S, rank: (r: number) => number): S;
  /** A copy of a message's data with its ranks renamed (default: the data holds no ranks). */
  renameData?(tag: number, data: unknown, rank: (r: number) => number): unknown;
  renameMonitor?(monitor: H, rank: (r: number) => number): H;
}

/**
 * Global ghost state beside the nodes (a history for a linearizability check, the values ever
 * chosen): updated on each message sent and each delivered. Return a new value, or undefined for
 * no change; never mutate the argument.
 */
export interface Monitor<H> {
  initial: H;
  sent?(monitor: H, m: SpaceMessage): H | undefined;
  delivered?(monitor: H, m: SpaceMessage): H | undefined;
}

export interface SpaceView<S, H = undefined> {
  states: readonly S[];
  network: readonly SpaceMessage[];
  monitor: H;
}

export interface StateSpaceOptions<S, H = undefined> {
  nodes: SpaceNode<S>[];
  /** Messages in flight at the start (e.g. what the nodes sent when they started, or clients' requests). */
  messages?: SpaceMessage[];
  /** At most this many messages lost per path (default 0). */
  drops?: number;
  /** The random draw every step gets (default 0.5). */
  random?: number;
  /** Checked on every state reached; throws (or returns a string) to report a violation. */
  always?: (view: SpaceView<S, H>) => void | string;
  symmetry?: Symmetry<S, H>;
  monitor?: Monitor<H>;
  /**
   * A delivery that changes neither the receiver's state nor sends anything is no transition: the
   * message stays in flight (Stateright's semantics). Default false: the message is consumed.
   */
  ignoredStay?: boolean;
  /**
   * Messages the receiver, in `state`, will ignore whatever happens next (a reply to a ballot it has
   * left behind): they leave the network. The model vouches for it; it saves the states that differ
   * only in which such messages are still in flight.
   */
  obsolete?: (state: S, m: SpaceMessage) => boolean;
  /** Stop after this many states (default 20 million); the report then says not exhausted. */
  maxStates?: number;
  describe?: (m: SpaceMessage) => string;
  /** Called after each breadth-first level (for progress on long searches). */
  onLevel?: (progress: { depth: number; states: number; transitions: number; frontier: number }) => void;
}

export interface StateSpaceReport {
  /** Distinct global states reached (after symmetry reduction). */
  states: number;
  /** Transitions explored (edges, including those into states seen before). */
  transitions: number;
  /** Breadth-first levels: the longest shortest path from the start. */
  depth: number;
  /** Distinct node states, and machine steps actually run (the rest were reused). */
  nodeStates: number;
  steps: number;
  exhausted: boolean;
  seconds: number;
  /** CPU seconds the search took (user + system): the rate per core, on a loaded machine too. */
  cpuSeconds: number;
  failure?: { message: string; depth: number; path: string[] };
}

interface Global {
  nodes: number[];
  /** Message ids, sorted: the multiset in flight. */
  net: number[];
  drops: number;
  ticks: number[];
  mon: number;
}

interface Result {
  node: number;
  /** Messages sent to nodes of the model, and all sent (what the monitor sees). */
  outs: number[];
  sent: number[];
}

const DELIVER = 0;
const DROP = 1;
const TICK = 2;

export function checkStateSpace<S, H = undefined>(o: StateSpaceOptions<S, H>): StateSpaceReport {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const random = o.random ?? 0.5;
  const maxDrops = o.drops ?? 0;
  const maxStates = o.maxStates ?? 20_000_000;
  const n = o.nodes.length;
  const budget = o.nodes.map((x) => x.ticks ?? 0);
  const indexOf = new Map(o.nodes.map((x, i) => [x.rank, i]));
  if (indexOf.size !== n) throw new Error('checkStateSpace(): two nodes share a rank');
  const describe = o.describe ?? defaultDescribe;

  // ---- interned node states, messages and monitor values ----
  const nodeIds = new Map<string, number>();
  const snap: S[] = [];
  const clock: number[] = [];
  const wake: (number | undefined)[] = [];
  const done: boolean[] = [];
  const internNode = (i: number, state: S, at: number): number => {
    const key = `${canonical(state)}@${at}`;
    let id = nodeIds.get(key);
    if (id === undefined) {
      id = snap.length;
      nodeIds.set(key, id);
      snap.push(state);
      clock.push(at);
      const m = o.nodes[i].machine;
      const w = m.wakeAtMs(state);
      wake.push(w !== undefined && Number.isFinite(w) ? w : undefined);
      done.push(m.done(state));
    }
    return id;
  };
  const msgIds = new Map<string, number>();
  const msgs: SpaceMessage[] = [];
  const dest: number[] = [];
  const internMsg = (m: SpaceMessage): number => {
    const key = `${m.from}>${m.to}#${m.tag}:${canonical(m.data)}`;
    let id = msgIds.get(key);
    if (id === undefined) {
      id = msgs.length;
      msgIds.set(key, id);
      msgs.push(m);
      dest.push(indexOf.get(m.to) ?? -1);
    }
    return id;
  };
  const monIds = new Map<string, number>();
  const mons: H[] = [];
  const internMon = (h: H): number => {
    const key = canonical(h);
    let id = monIds.get(key);
    if (id === undefined) {
      id = mons.length;
      monIds.set(key, id);
      mons.push(h);
    }
    return id;
  };
  const monitor = o.monitor;
  const monSent = new Map<number, number>();
  const monDelivered = new Map<number, number>();
  const advanceMon = (memo: Map<number, number>, f: ((h: H, m: SpaceMessage) => H | undefined) | undefined, mon: number, m: number) => {
    if (!f) return mon;
    const k = mon * 0x200000 + m;
    let r = memo.get(k);
    if (r === undefined) {
      const h = f(mons[mon], msgs[m]);
      r = h === undefined ? mon : internMon(h);
      memo.set(k, r);
    }
    return r;
  };

  // ---- a node's transitions, computed once per (node state, input) ----
  let steps = 0;
  const memo = new Map<number, Result>();
  const run = (i: number, id: number, m: number | undefined): Result => {
    const k = id * 0x200000 + (m === undefined ? 0 : m + 1);
    let r = memo.get(k);
    if (r) return r;
    steps++;
    const machine = o.nodes[i].machine;
    const state = structuredClone(snap[id]);
    let at = clock[id];
    let input: SpaceInput;
    if (m === undefined) {
      at = Math.max(at, wake[id]!);
      input = { type: 'tick', nowMs: at, random, failed: [] };
    } else {
      const msg = msgs[m];
      input = { type: 'message', source: msg.from, tag: msg.tag, data: structuredClone(msg.data), nowMs: at, random };
    }
    const [next, out] = machine.step(state, input);
    const rank = o.nodes[i].rank;
    // What goes to a rank outside the model leaves it (the monitor still sees it sent).
    const sent = out.map((x) => internMsg({ from: rank, to: x.to, tag: x.tag, data: x.data }));
    const outs = sent.filter((x) => dest[x] >= 0);
    r = { node: internNode(i, next, at), outs, sent };
    memo.set(k, r);
    return r;
  };

  // ---- symmetry: every permutation of the ranks within each group ----
  const perms = permutations(o.symmetry?.groups ?? [], indexOf);
  const renamedNodes = new Map<number, number>();
  const renamedMsgs = new Map<number, number>();
  const renamedMons = new Map<number, number>();
  const P = perms.length;
  const renameNode = (i: number, id: number, p: number): number => {
    if (p === 0) return id;
    const k = id * P + p;
    let r = renamedNodes.get(k);
    if (r === undefined) {
      const f = perms[p].rank;
      r = internNode(perms[p].node[i], o.symmetry!.renameState(snap[id], f), clock[id]);
      renamedNodes.set(k, r);
    }
    return r;
  };
  const renameMsg = (id: number, p: number): number => {
    if (p === 0) return id;
    const k = id * P + p;
    let r = renamedMsgs.get(k);
    if (r === undefined) {
      const f = perms[p].rank;
      const m = msgs[id];
      const data = o.symmetry!.renameData ? o.symmetry!.renameData(m.tag, m.data, f) : m.data;
      r = internMsg({ from: f(m.from), to: f(m.to), tag: m.tag, data });
      renamedMsgs.set(k, r);
    }
    return r;
  };
  const renameMon = (id: number, p: number): number => {
    if (p === 0 || !o.symmetry?.renameMonitor) return id;
    const k = id * P + p;
    let r = renamedMons.get(k);
    if (r === undefined) {
      r = internMon(o.symmetry.renameMonitor(mons[id], perms[p].rank));
      renamedMons.set(k, r);
    }
    return r;
  };
  const keyOf = (g: Global): string => `${g.nodes.join(',')}|${g.net.join(',')}|${g.drops}|${g.ticks.join(',')}|${g.mon}`;
  const renameNodes = (g: Global, p: number): number[] => {
    if (p === 0) return g.nodes;
    const nodes = new Array<number>(n);
    for (let i = 0; i < n; i++) nodes[perms[p].node[i]] = renameNode(i, g.nodes[i], p);
    return nodes;
  };
  const renameGlobal = (g: Global, p: number, nodes: number[]): Global => {
    if (p === 0) return g;
    const ticks = new Array<number>(n);
    for (let i = 0; i < n; i++) ticks[perms[p].node[i]] = g.ticks[i];
    const net = g.net.map((m) => renameMsg(m, p)).sort(byNumber);
    return { nodes, net, drops: g.drops, ticks, mon: renameMon(g.mon, p) };
  };
  /**
   * The representative of g's orbit: the permutation whose node states (by id) are least, and of
   * those (usually one) the one whose whole key is least. Both orders are the same for every member
   * of the orbit, so each orbit has one representative.
   */
  const canon = (g: Global): { g: Global; key: string; perm: number } => {
    if (P === 1) return { g, key: keyOf(g), perm: 0 };
    let least: number[] = g.nodes;
    let ties = [0];
    for (let p = 1; p < P; p++) {
      const nodes = renameNodes(g, p);
      const c = compareVectors(nodes, least);
      if (c < 0) {
        least = nodes;
        ties = [p];
      } else if (c === 0) ties.push(p);
    }
    let best: { g: Global; key: string; perm: number } | undefined;
    for (const p of ties) {
      const h = renameGlobal(g, p, p === ties[0] ? least : renameNodes(g, p));
      const key = keyOf(h);
      if (!best || key < best.key) best = { g: h, key, perm: p };
    }
    return best!;
  };

  /** Messages to a node that is done, or that its state makes obsolete, can never be delivered: they leave the network. */
  const stale = new Map<number, boolean>();
  const obsolete = (id: number, m: number): boolean => {
    if (done[id]) return true;
    if (!o.obsolete) return false;
    const k = id * 0x200000 + m;
    let r = stale.get(k);
    if (r === undefined) {
      r = o.obsolete(snap[id], msgs[m]);
      stale.set(k, r);
    }
    return r;
  };
  const undeliverable = (nodes: number[], net: number[]): number[] => {
    if (!o.obsolete && !nodes.some((id) => done[id])) return net;
    return net.filter((m) => dest[m] < 0 || !obsolete(nodes[dest[m]], m));
  };

  // ---- successors ----
  const successors = (g: Global, emit: (action: number, h: Global) => boolean): boolean => {
    for (let j = 0; j < g.net.length; j++) {
      const m = g.net[j];
      if (j > 0 && g.net[j - 1] === m) continue;
      const i = dest[m];
      if (i >= 0 && !done[g.nodes[i]]) {
        const r = run(i, g.nodes[i], m);
        if (!(o.ignoredStay && r.node === g.nodes[i] && r.sent.length === 0)) {
          const nodes = g.nodes.slice();
          nodes[i] = r.node;
          let mon = advanceMon(monDelivered, monitor?.delivered, g.mon, m);
          for (const x of r.sent) mon = advanceMon(monSent, monitor?.sent, mon, x);
          const h = { nodes, net: undeliverable(nodes, without(g.net, j, r.outs)), drops: g.drops, ticks: g.ticks, mon };
          if (emit(m * 4 + DELIVER, h)) return true;
        }
      }
      if (g.drops < maxDrops && emit(m * 4 + DROP, { ...g, net: without(g.net, j, []), drops: g.drops + 1 })) return true;
    }
    for (let i = 0; i < n; i++) {
      const id = g.nodes[i];
      if (g.ticks[i] >= budget[i] || done[id] || wake[id] === undefined) continue;
      const r = run(i, id, undefined);
      const nodes = g.nodes.slice();
      nodes[i] = r.node;
      const ticks = g.ticks.slice();
      ticks[i]++;
      let mon = g.mon;
      for (const x of r.sent) mon = advanceMon(monSent, monitor?.sent, mon, x);
      if (emit(i * 4 + TICK, { nodes, net: undeliverable(nodes, without(g.net, -1, r.outs)), drops: g.drops, ticks, mon })) return true;
    }
    return false;
  };

  // ---- the start ----
  const start = o.nodes.map((x, i) => internNode(i, structuredClone(x.state), 0));
  let mon0 = monitor ? internMon(monitor.initial) : internMon(undefined as H);
  const net0: number[] = [];
  for (const m of o.messages ?? []) {
    const id = internMsg(m);
    mon0 = advanceMon(monSent, monitor?.sent, mon0, id);
    if (dest[id] >= 0) net0.push(id);
  }
  const raw0: Global = { nodes: start, net: net0.sort(byNumber), drops: 0, ticks: new Array<number>(n).fill(0), mon: mon0 };
  const first = canon(raw0);

  const visited = new FingerprintSet();
  visited.add(first.key);
  const parent = new GrowableInt32();
  const action = new GrowableInt32();
  const permOf = new GrowableInt32();
  parent.push(-1);
  action.push(-1);
  permOf.push(first.perm);
  let transitions = 0;
  let depth = 0;
  let failure: StateSpaceReport['failure'];

  const violation = (g: Global): string | undefined => {
    try {
      const r = o.always!({ states: g.nodes.map((id) => snap[id]), network: g.net.map((id) => msgs[id]), monitor: mons[g.mon] });
      return typeof r === 'string' ? r : undefined;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  };
  const check = (g: Global, index: number): boolean => {
    if (!o.always) return false;
    const problem = violation(g);
    if (problem === undefined) return false;
    // Told in the ranks of the path's own last state (the one reached is its orbit's representative).
    const { lines, sigma } = pathTo(index);
    failure = { message: violation(renameGlobal(g, sigma, renameNodes(g, sigma))) ?? problem, depth, path: lines };
    return true;
  };

  /** The path to state `index`, replayed from the actual start: each step's action renamed back. */
  const pathTo = (index: number): { lines: string[]; sigma: number } => {
    const chain: number[] = [];
    for (let k = index; k > 0; k = parent.at(k)) chain.push(k);
    chain.reverse();
    // sigma maps the canonical state at each step to the concrete one the path is in.
    let sigma = inverse(perms, permOf.at(0));
    const lines: string[] = [];
    for (const k of chain) {
      const a = action.at(k);
      const kind = a % 4;
      const x = Math.floor(a / 4);
      if (kind === TICK) {
        const rank = perms[sigma].rank(o.nodes[x].rank);
        lines.push(`rank ${rank}'s timer fires`);
      } else {
        const m = msgs[renameMsg(x, sigma)];
        lines.push(`${kind === DROP ? 'lost: ' : ''}${describe(m)}`);
      }
      sigma = compose(perms, sigma, inverse(perms, permOf.at(k)));
    }
    return { lines, sigma };
  };

  // The frontier holds each state as its key (compact); it is parsed back when expanded.
  let level: { keys: string[]; index: number[] } = { keys: [first.key], index: [0] };
  let exhausted = true;
  if (!check(first.g, 0)) {
    search: while (level.keys.length > 0) {
      depth++;
      const next: typeof level = { keys: [], index: [] };
      for (let f = 0; f < level.keys.length; f++) {
        const index = level.index[f];
        const stop = successors(parseKey(level.keys[f]), (a, raw) => {
          transitions++;
          const c = canon(raw);
          if (!visited.add(c.key)) return false;
          const k = parent.length;
          parent.push(index);
          action.push(a);
          permOf.push(c.perm);
          if (check(c.g, k)) return true;
          if (k + 1 >= maxStates) {
            exhausted = false;
            return true;
          }
          next.keys.push(c.key);
          next.index.push(k);
          return false;
        });
        if (stop) break search;
      }
      level = next;
      o.onLevel?.({ depth, states: parent.length, transitions, frontier: level.keys.length });
    }
    if (level.keys.length === 0) depth--;
  }
  return {
    states: parent.length,
    transitions,
    depth,
    nodeStates: snap.length,
    steps,
    exhausted: exhausted && !failure,
    seconds: (performance.now() - started) / 1000,
    cpuSeconds: cpuSince(cpu),
    ...(failure ? { failure } : {}),
  };
}

function cpuSince(before: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(before);
  return (d.user + d.system) / 1e6;
}

function compareVectors(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

const byNumber = (a: number, b: number): number => a - b;

function parseKey(key: string): Global {
  const [nodes, net, drops, ticks, mon] = key.split('|');
  const ints = (x: string): number[] => (x === '' ? [] : x.split(',').map(Number));
  return { nodes: ints(nodes), net: ints(net), drops: Number(drops), ticks: ints(ticks), mon: Number(mon) };
}

/**
 * The visited states, as 64-bit fingerprints of their keys (as TLC and Stateright keep them): two
 * 32-bit hashes in an open-addressing table. Two states would be confused only if both hashes
 * collide: with 10^8 states, a chance of about 3 in 10^4.
 */
class FingerprintSet {
  private hi = new Uint32Array(1 << 16);
  private lo = new Uint32Array(1 << 16);
  private size = 0;

  /** Adds the key's fingerprint; false if it was there. */
  add(key: string): boolean {
    let a = 0x811c9dc5;
    let b = 0x9747b28c;
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 15;
    }
    a = (a ^ (a >>> 16)) >>> 0;
    b = b >>> 0 || 1; // 0 marks an empty slot
    if (!this.insert(a, b)) return false;
    if (++this.size * 2 > this.hi.length) this.grow();
    return true;
  }

  private insert(a: number, b: number): boolean {
    const mask = this.hi.length - 1;
    for (let i = a & mask; ; i = (i + 1) & mask) {
      if (this.lo[i] === 0) {
        this.hi[i] = a;
        this.lo[i] = b;
        return true;
      }
      if (this.hi[i] === a && this.lo[i] === b) return false;
    }
  }

  private grow(): void {
    const { hi, lo } = this;
    this.hi = new Uint32Array(hi.length * 2);
    this.lo = new Uint32Array(lo.length * 2);
    for (let i = 0; i < hi.length; i++) if (lo[i] !== 0) this.insert(hi[i], lo[i]);
  }
}

/** An append-only list of int32 in a typed array (a state's parent, action, permutation). */
class GrowableInt32 {
  private data = new Int32Array(1 << 16);
  length = 0;

  push(x: number): void {
    if (this.length === this.data.length) {
      const bigger = new Int32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = x;
  }

  at(i: number): number {
    return this.data[i];
  }
}

/** `net` without its j-th element (j < 0: none), with `add` merged in, still sorted. */
function without(net: readonly number[], j: number, add: readonly number[]): number[] {
  const out = j < 0 ? net.slice() : [...net.slice(0, j), ...net.slice(j + 1)];
  if (add.length === 0) return out;
  for (const x of add) out.push(x);
  return out.sort(byNumber);
}

interface Perm {
  /** Old rank → new rank. */
  rank: (r: number) => number;
  /** Old node index → new node index. */
  node: number[];
  map: Map<number, number>;
}

/** Every permutation of the ranks within each group (the product over groups); the identity first. */
function permutations(groups: number[][], indexOf: Map<number, number>): Perm[] {
  let maps: Map<number, number>[] = [new Map()];
  for (const group of groups) {
    for (const r of group) if (!indexOf.has(r)) throw new Error(`checkStateSpace(): symmetry group names rank ${r}, which is no node`);
    const orders = arrangements(group);
    maps = maps.flatMap((m) =>
      orders.map((order) => {
        const next = new Map(m);
        group.forEach((r, k) => next.set(r, order[k]));
        return next;
      }),
    );
  }
  return maps.map((map) => ({
    map,
    rank: (r: number) => map.get(r) ?? r,
    node: [...indexOf.keys()].map((r) => indexOf.get(map.get(r) ?? r)!),
  }));
}

function arrangements<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [items.slice()];
  return items.flatMap((x, i) => arrangements([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [x, ...rest]));
}

function findPerm(perms: Perm[], f: (r: number) => number): number {
  const p = perms.findIndex((q) => [...q.map.keys()].every((r) => q.map.get(r) === f(r)));
  if (p < 0) throw new Error('checkStateSpace(): permutations do not compose');
  return p;
}

function inverse(perms: Perm[], p: number): number {
  const inv = new Map([...perms[p].map].map(([a, b]) => [b, a]));
  return findPerm(perms, (r) => inv.get(r) ?? r);
}

/** The permutation "b, then a". */
function compose(perms: Perm[], a: number, b: number): number {
  return findPerm(perms, (r) => perms[a].rank(perms[b].rank(r)));
}

function defaultDescribe(m: SpaceMessage): string {
  const name = tagName(m.tag) ?? `tag ${m.tag}`;
  return `${m.from} → ${m.to} ${name} ${JSON.stringify(m.data, (_k, v: unknown) => (v instanceof Map ? [...v] : v instanceof Set ? [...v] : v))}`;
}
