import t from 'tap';
import { knomialNode } from '../../runtime/knomial.ts';

// The k-nomial tree: one root, every other rank reached exactly once, parents below their
// children, children's runs contiguous and in rank order, and at most ceil(log_k p) levels.
for (const k of [2, 3, 4, 8]) {
  for (const p of [1, 2, 3, 5, 8, 16, 17, 33]) {
    t.test(`k=${k} p=${p}`, async (t) => {
      const nodes = Array.from({ length: p }, (_, v) => knomialNode(v, p, k));
      t.equal(nodes[0].parent, -1, 'rank 0 is the root');
      const seen = new Array<number>(p).fill(0);
      nodes.forEach((node, v) => {
        for (const c of node.children) {
          seen[c]++;
          t.equal(nodes[c].parent, v, `parent of ${c} is ${v}`);
          t.ok(c > v, 'children lie to the right');
        }
      });
      t.same(seen.slice(1), new Array(p - 1).fill(1), 'every non-root rank is a child exactly once');
      // The run covered by v: v and its descendants, which must be [v, end) with children in order.
      const end = (v: number): number => nodes[v].children.reduce((e, c) => (c === e ? end(c) : NaN), v + 1);
      t.equal(end(0), p, 'subtree runs are contiguous and children come in rank order');
      const depth = (v: number): number => (nodes[v].parent < 0 ? 0 : 1 + depth(nodes[v].parent));
      const levels = Math.max(...nodes.map((_, v) => depth(v)));
      let want = 0;
      for (let span = 1; span < p; span *= k) want++;
      t.ok(levels <= want, `${levels} levels, at most ceil(log_${k} ${p}) = ${want}`);
    });
  }
}
