/**
 * k-nomial trees for the collectives when ranks outnumber cores (docs/collectives.md, "Algorithms").
 * There, rounds do not run in parallel anyway and each message costs a process wake-up, so the
 * fewest messages and wake-ups win: a barrier is a gather to rank 0 and a release (2(p − 1)
 * messages, not p·log p), an allreduce a reduce and a broadcast. The radix k sets the rounds,
 * ceil(log_k p); k = 2 is the binomial tree.
 */

export interface TreeNode {
  /** Virtual rank of the parent; -1 at the root (virtual rank 0). */
  parent: number;
  /**
   * Virtual ranks of the children, nearest subtree first. Child i covers the run of virtual ranks
   * that starts at it and ends where child i + 1 begins (the last: where this node's own run ends),
   * so combining a node's value with its children's in this order keeps rank order.
   */
  children: number[];
}

/** The place of virtual rank `v` in the k-nomial tree over `p` ranks rooted at 0. */
export function knomialNode(v: number, p: number, k: number): TreeNode {
  let span = 1;
  let parent = -1;
  while (span < p) {
    const digit = Math.floor(v / span) % k;
    if (digit !== 0) {
      parent = v - digit * span;
      break;
    }
    span *= k;
  }
  const children: number[] = [];
  for (let s = 1; s < span; s *= k) {
    for (let d = 1; d < k; d++) {
      const child = v + d * s;
      if (child < p) children.push(child);
    }
  }
  return { parent, children };
}
