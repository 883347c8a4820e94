import t from 'tap';
import { checkPaxosSpace, type PaxosSpaceOptions } from '../../algorithms/fuzz-targets/bfs-paxos.ts';
import { configuration } from '../helpers/bfs-reduction-cases.ts';

/** Each configuration of the ranks with its breadth-first depth, and the last level the search completed. */
function byDepth(o: PaxosSpaceOptions): { depth: Map<string, number>; complete: number; states: number } {
  const depth = new Map<string, number>();
  let complete = -1;
  const r = checkPaxosSpace({
    ...o,
    // States are checked as they are reached, the level after the last one completed.
    observe: (states) => {
      const c = configuration(states);
      if (!depth.has(c)) depth.set(c, complete + 1);
    },
    onLevel: (p) => void (complete = p.depth),
  });
  return { depth, complete, states: r.states };
}

const upTo = (m: Map<string, number>, d: number): string[] =>
  [...m]
    .filter(([, x]) => x <= d)
    .map(([c]) => c)
    .sort();

// With a timer the search branching on a loss does not end quickly, so it is cut at a number of
// states and compared on the levels it completed. Taking the losses out of a path leaves a path as
// short or shorter to the same configuration, and a path without loss is a path of both searches:
// every configuration has the same depth in both, so the configurations up to any depth are the same.
t.test('one timer firing (first proposer), ≤1 loss branched on: the same configurations, level by level', async (t) => {
  const cap = 120_000;
  const o: PaxosSpaceOptions = { drops: 1, ticks: [1, 0], maxStates: cap };
  const literal = byDepth({ ...o, literalDrops: true });
  const subsumed = byDepth(o);
  const d = Math.min(literal.complete, subsumed.complete);
  t.ok(d >= 15, `levels 0 to ${d} complete in both (${literal.states} and ${subsumed.states} states)`);
  const firing = [...literal.depth].filter(([c, x]) => x <= d && /"nowMs":[1-9]/.test(c.split('|')[0]));
  t.ok(firing.length > 0, `${firing.length} configurations after the timer fired`);
  for (let x = 0; x <= d; x++) t.same(upTo(literal.depth, x), upTo(subsumed.depth, x), `the same configurations up to depth ${x}`);
});
