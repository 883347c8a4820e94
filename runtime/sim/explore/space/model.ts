/**
 * The state-space search's model of the system: node states, messages and monitor values interned
 * as small integers, a global state as vectors of them, and its successors (deliver any message in
 * flight, lose one within the budget, fire a node's timer within its budget).
 *
 * Machines are deterministic given their inputs, so a node's transitions are computed once per
 * (node state, input) and reused by every global state holding that node state: most transitions
 * are then lookups, not steps.
 *
 * Time: each node has its own clock, which only its timer moves. A tick fires at
 * max(clock, wakeAtMs(state)) (a timer is never early), and every message is delivered at the
 * receiver's clock. The random draw handed to every step is the fixed `random`.
 */
import { canonical } from '../canonical.ts';
import type { SpaceInput, SpaceMessage, SpaceView, StateSpaceOptions } from './types.ts';

/** A global state: every field an interned id. */
export interface Global {
  nodes: number[];
  /** Message ids, sorted: the multiset in flight. */
  net: number[];
  drops: number;
  ticks: number[];
  mon: number;
}

/** An action is `x * 4 + kind`: x is the message id (DELIVER, DROP) or the node index (TICK). */
export const DELIVER = 0;
export const DROP = 1;
export const TICK = 2;

interface Result {
  node: number;
  /** Messages sent to nodes of the model, and all sent (what the monitor sees). */
  outs: number[];
  sent: number[];
}

/** Memo keys pair an id with a message id (or a permutation) in one number. */
const PAIR = 0x200000;

export class SpaceModel<S, H> {
  readonly n: number;
  readonly indexOf: Map<number, number>;
  /** Machine steps actually run (the rest were reused). */
  steps = 0;

  // Interned node states (with their clock, wake time and whether done), messages, monitor values.
  readonly snap: S[] = [];
  readonly clock: number[] = [];
  readonly wake: (number | undefined)[] = [];
  readonly done: boolean[] = [];
  readonly msgs: SpaceMessage[] = [];
  /** Each message's receiver and sender as node indexes, or -1 for a rank outside the model. */
  readonly dest: number[] = [];
  readonly source: number[] = [];
  readonly mons: H[] = [];
  private readonly nodeIds = new Map<string, number>();
  private readonly msgIds = new Map<string, number>();
  private readonly monIds = new Map<string, number>();

  private readonly random: number;
  private readonly maxDrops: number;
  private readonly budget: number[];
  private readonly memo = new Map<number, Result>();
  private readonly monSent = new Map<number, number>();
  private readonly monDelivered = new Map<number, number>();
  /** Per (receiver state, message): per sender state, whether the message is obsolete. */
  private readonly stale = new Map<number, Map<number, boolean>>();

  constructor(private readonly o: StateSpaceOptions<S, H>) {
    this.n = o.nodes.length;
    this.random = o.random ?? 0.5;
    this.maxDrops = o.drops ?? 0;
    this.budget = o.nodes.map((x) => x.ticks ?? 0);
    this.indexOf = new Map(o.nodes.map((x, i) => [x.rank, i]));
    if (this.indexOf.size !== this.n) throw new Error('checkStateSpace(): two nodes share a rank');
  }

  internNode(i: number, state: S, at: number): number {
    const key = `${canonical(state)}@${at}`;
    let id = this.nodeIds.get(key);
    if (id === undefined) {
      id = this.snap.length;
      this.nodeIds.set(key, id);
      this.snap.push(state);
      this.clock.push(at);
      const m = this.o.nodes[i].machine;
      const w = m.wakeAtMs(state);
      this.wake.push(w !== undefined && Number.isFinite(w) ? w : undefined);
      this.done.push(m.done(state));
    }
    return id;
  }

  internMsg(m: SpaceMessage): number {
    const key = `${m.from}>${m.to}#${m.tag}:${canonical(m.data)}`;
    let id = this.msgIds.get(key);
    if (id === undefined) {
      id = this.msgs.length;
      this.msgIds.set(key, id);
      this.msgs.push(m);
      this.dest.push(this.indexOf.get(m.to) ?? -1);
      this.source.push(this.indexOf.get(m.from) ?? -1);
    }
    return id;
  }

  internMon(h: H): number {
    const key = canonical(h);
    let id = this.monIds.get(key);
    if (id === undefined) {
      id = this.mons.length;
      this.monIds.set(key, id);
      this.mons.push(h);
    }
    return id;
  }

  /** The start: the nodes' initial states and the messages in flight at the start. */
  start(): Global {
    const { o } = this;
    const nodes = o.nodes.map((x, i) => this.internNode(i, structuredClone(x.state), 0));
    let mon = this.internMon(o.monitor ? o.monitor.initial : (undefined as H));
    const net: number[] = [];
    for (const m of o.messages ?? []) {
      const id = this.internMsg(m);
      mon = this.advanceMon(this.monSent, o.monitor?.sent, mon, id);
      if (this.dest[id] >= 0) net.push(id);
    }
    return { nodes, net: net.sort(byNumber), drops: 0, ticks: new Array<number>(this.n).fill(0), mon };
  }

  view(g: Global): SpaceView<S, H> {
    return { states: g.nodes.map((id) => this.snap[id]), network: g.net.map((id) => this.msgs[id]), monitor: this.mons[g.mon] };
  }

  /** Calls `emit` with each successor of g and the action that leads there; stops when it returns true. */
  successors(g: Global, emit: (action: number, h: Global) => boolean): boolean {
    const { o, dest } = this;
    const monitor = o.monitor;
    for (let j = 0; j < g.net.length; j++) {
      const m = g.net[j];
      if (j > 0 && g.net[j - 1] === m) continue;
      const i = dest[m];
      if (i >= 0 && !this.done[g.nodes[i]]) {
        const r = this.run(i, g.nodes[i], m);
        if (!(o.ignoredStay && r.node === g.nodes[i] && r.sent.length === 0)) {
          const nodes = g.nodes.slice();
          nodes[i] = r.node;
          let mon = this.advanceMon(this.monDelivered, monitor?.delivered, g.mon, m);
          for (const x of r.sent) mon = this.advanceMon(this.monSent, monitor?.sent, mon, x);
          const h = { nodes, net: this.undeliverable(nodes, without(g.net, j, r.outs)), drops: g.drops, ticks: g.ticks, mon };
          if (emit(m * 4 + DELIVER, h)) return true;
        }
      }
      if (g.drops < this.maxDrops && emit(m * 4 + DROP, { ...g, net: without(g.net, j, []), drops: g.drops + 1 })) return true;
    }
    for (let i = 0; i < this.n; i++) {
      const id = g.nodes[i];
      if (g.ticks[i] >= this.budget[i] || this.done[id] || this.wake[id] === undefined) continue;
      const r = this.run(i, id, undefined);
      const nodes = g.nodes.slice();
      nodes[i] = r.node;
      const ticks = g.ticks.slice();
      ticks[i]++;
      let mon = g.mon;
      for (const x of r.sent) mon = this.advanceMon(this.monSent, monitor?.sent, mon, x);
      if (emit(i * 4 + TICK, { nodes, net: this.undeliverable(nodes, without(g.net, -1, r.outs)), drops: g.drops, ticks, mon }))
        return true;
    }
    return false;
  }

  /** A node's transition on a message (or its timer, m undefined), computed once per (node state, input). */
  private run(i: number, id: number, m: number | undefined): Result {
    const k = id * PAIR + (m === undefined ? 0 : m + 1);
    let r = this.memo.get(k);
    if (r) return r;
    this.steps++;
    const node = this.o.nodes[i];
    const state = structuredClone(this.snap[id]);
    let at = this.clock[id];
    let input: SpaceInput;
    if (m === undefined) {
      at = Math.max(at, this.wake[id]!);
      input = { type: 'tick', nowMs: at, random: this.random, failed: [] };
    } else {
      const msg = this.msgs[m];
      input = { type: 'message', source: msg.from, tag: msg.tag, data: structuredClone(msg.data), nowMs: at, random: this.random };
    }
    const [next, out] = node.machine.step(state, input);
    // What goes to a rank outside the model leaves it (the monitor still sees it sent).
    const sent = out.map((x) => this.internMsg({ from: node.rank, to: x.to, tag: x.tag, data: x.data }));
    const outs = sent.filter((x) => this.dest[x] >= 0);
    r = { node: this.internNode(i, next, at), outs, sent };
    this.memo.set(k, r);
    return r;
  }

  private advanceMon(memo: Map<number, number>, f: ((h: H, m: SpaceMessage) => H | undefined) | undefined, mon: number, m: number): number {
    if (!f) return mon;
    const k = mon * PAIR + m;
    let r = memo.get(k);
    if (r === undefined) {
      const h = f(this.mons[mon], this.msgs[m]);
      r = h === undefined ? mon : this.internMon(h);
      memo.set(k, r);
    }
    return r;
  }

  /** Messages to a node that is done, or that the model calls obsolete, can never be delivered: they leave the network. */
  private undeliverable(nodes: number[], net: number[]): number[] {
    if (!this.o.obsolete && !nodes.some((id) => this.done[id])) return net;
    return net.filter((m) => this.dest[m] < 0 || !this.obsolete(nodes, m));
  }

  private obsolete(nodes: number[], m: number): boolean {
    const id = nodes[this.dest[m]];
    if (this.done[id]) return true;
    if (!this.o.obsolete) return false;
    const s = this.source[m];
    const from = s < 0 ? -1 : nodes[s];
    const k = id * PAIR + m;
    let bySender = this.stale.get(k);
    if (!bySender) this.stale.set(k, (bySender = new Map()));
    let r = bySender.get(from);
    if (r === undefined) {
      r = this.o.obsolete(this.snap[id], this.msgs[m], from < 0 ? undefined : this.snap[from]);
      bySender.set(from, r);
    }
    return r;
  }
}

export const byNumber = (a: number, b: number): number => a - b;

/** A global state's key: what the visited set hashes and the frontier keeps. */
export function keyOf(g: Global): string {
  return `${g.nodes.join(',')}|${g.net.join(',')}|${g.drops}|${g.ticks.join(',')}|${g.mon}`;
}

export function parseKey(key: string): Global {
  const [nodes, net, drops, ticks, mon] = key.split('|');
  const ints = (x: string): number[] => (x === '' ? [] : x.split(',').map(Number));
  return { nodes: ints(nodes), net: ints(net), drops: Number(drops), ticks: ints(ticks), mon: Number(mon) };
}

/** `net` without its j-th element (j < 0: none), with `add` merged in, still sorted. */
function without(net: readonly number[], j: number, add: readonly number[]): number[] {
  const out = j < 0 ? net.slice() : [...net.slice(0, j), ...net.slice(j + 1)];
  if (add.length === 0) return out;
  for (const x of add) out.push(x);
  return out.sort(byNumber);
}
