/** Convergence checkers for CRDT simulation tests: throw on a violation. */

/** Every replica holds the same state (by its canonical text), and it is `expected` if given. */
export function checkConverged(canonicals: Array<string | undefined>, expected?: string): void {
  const distinct = new Set(canonicals);
  if (distinct.size !== 1 || canonicals.includes(undefined)) {
    throw new Error(`replicas differ:\n${canonicals.map((c, r) => `  rank ${r}: ${c ?? '(no result)'}`).join('\n')}`);
  }
  if (expected !== undefined && canonicals[0] !== expected) {
    throw new Error(`replicas agree on ${canonicals[0]} but the join of all updates is ${expected}`);
  }
}

/** merge is commutative, associative and idempotent on these states (by canonical text). */
export function checkMergeLaws<S>(states: S[], merge: (a: S, b: S) => S, canonical: (s: S) => string): void {
  const eq = (x: S, y: S, law: string): void => {
    if (canonical(x) !== canonical(y)) throw new Error(`${law} fails: ${canonical(x)} ≠ ${canonical(y)}`);
  };
  for (const a of states) {
    eq(merge(a, a), a, 'idempotence');
    for (const b of states) {
      eq(merge(a, b), merge(b, a), 'commutativity');
      for (const c of states) eq(merge(merge(a, b), c), merge(a, merge(b, c)), 'associativity');
    }
  }
}
