/**
 * Symmetry reduction: every permutation of the ranks within each symmetry group, and the
 * representative of a global state's orbit under them, which is what the search stores.
 */
import type { Symmetry } from './types.ts';
import { byNumber, keyOf, type Global, type SpaceModel } from './model.ts';

export interface Perm {
  /** Old rank → new rank. */
  rank: (r: number) => number;
  /** Old node index → new node index. */
  node: number[];
  map: Map<number, number>;
}

export interface Canonical {
  g: Global;
  key: string;
  /** The permutation that took the state reached to `g`. */
  perm: number;
}

export class SymmetryReduction<S, H> {
  /** The identity first. */
  readonly perms: Perm[];
  private readonly renamedNodes = new Map<number, number>();
  private readonly renamedMsgs = new Map<number, number>();
  private readonly renamedMons = new Map<number, number>();

  constructor(
    private readonly model: SpaceModel<S, H>,
    private readonly symmetry: Symmetry<S, H> | undefined,
  ) {
    this.perms = permutations(symmetry?.groups ?? [], model.indexOf);
  }

  /**
   * The representative of g's orbit: the permutation whose node states (by id) are least, and of
   * those (usually one) the one whose whole key is least. Both orders are the same for every member
   * of the orbit, so each orbit has one representative.
   */
  canon(g: Global): Canonical {
    const P = this.perms.length;
    if (P === 1) return { g, key: keyOf(g), perm: 0 };
    let least: number[] = g.nodes;
    let ties = [0];
    for (let p = 1; p < P; p++) {
      const nodes = this.renameNodes(g, p);
      const c = compareVectors(nodes, least);
      if (c < 0) {
        least = nodes;
        ties = [p];
      } else if (c === 0) ties.push(p);
    }
    let best: Canonical | undefined;
    for (const p of ties) {
      const h = this.renameGlobal(g, p, p === ties[0] ? least : this.renameNodes(g, p));
      const key = keyOf(h);
      if (!best || key < best.key) best = { g: h, key, perm: p };
    }
    return best!;
  }

  renameNodes(g: Global, p: number): number[] {
    if (p === 0) return g.nodes;
    const nodes = new Array<number>(this.model.n);
    for (let i = 0; i < this.model.n; i++) nodes[this.perms[p].node[i]] = this.renameNode(i, g.nodes[i], p);
    return nodes;
  }

  renameGlobal(g: Global, p: number, nodes: number[]): Global {
    if (p === 0) return g;
    const ticks = new Array<number>(this.model.n);
    for (let i = 0; i < this.model.n; i++) ticks[this.perms[p].node[i]] = g.ticks[i];
    const net = g.net.map((m) => this.renameMsg(m, p)).sort(byNumber);
    return { nodes, net, drops: g.drops, ticks, mon: this.renameMon(g.mon, p) };
  }

  renameMsg(id: number, p: number): number {
    if (p === 0) return id;
    const k = id * this.perms.length + p;
    let r = this.renamedMsgs.get(k);
    if (r === undefined) {
      const f = this.perms[p].rank;
      const m = this.model.msgs[id];
      const data = this.symmetry!.renameData ? this.symmetry!.renameData(m.tag, m.data, f) : m.data;
      r = this.model.internMsg({ from: f(m.from), to: f(m.to), tag: m.tag, data });
      this.renamedMsgs.set(k, r);
    }
    return r;
  }

  private renameNode(i: number, id: number, p: number): number {
    if (p === 0) return id;
    const k = id * this.perms.length + p;
    let r = this.renamedNodes.get(k);
    if (r === undefined) {
      const m = this.model;
      r = m.internNode(this.perms[p].node[i], this.symmetry!.renameState(m.snap[id], this.perms[p].rank), m.clock[id]);
      this.renamedNodes.set(k, r);
    }
    return r;
  }

  private renameMon(id: number, p: number): number {
    if (p === 0 || !this.symmetry?.renameMonitor) return id;
    const k = id * this.perms.length + p;
    let r = this.renamedMons.get(k);
    if (r === undefined) {
      r = this.model.internMon(this.symmetry.renameMonitor(this.model.mons[id], this.perms[p].rank));
      this.renamedMons.set(k, r);
    }
    return r;
  }

  inverse(p: number): number {
    const inv = new Map([...this.perms[p].map].map(([a, b]) => [b, a]));
    return this.find((r) => inv.get(r) ?? r);
  }

  /** The permutation "b, then a". */
  compose(a: number, b: number): number {
    return this.find((r) => this.perms[a].rank(this.perms[b].rank(r)));
  }

  private find(f: (r: number) => number): number {
    const p = this.perms.findIndex((q) => [...q.map.keys()].every((r) => q.map.get(r) === f(r)));
    if (p < 0) throw new Error('checkStateSpace(): permutations do not compose');
    return p;
  }
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

function compareVectors(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}
