/**
 * Stateful breadth-first search over roles written as pure state machines (the `serve()` machines
 * of the algorithms: `step(state, input) → [state, out[]]`, `wakeAtMs`, `done`), with the network
 * as a multiset of messages in flight: any message may be delivered next (asynchronous), up to
 * `drops` may be lost (or, with `lossAsDelay`, losses are proven as delays without branching on
 * them), and each node's timer may fire up to its `ticks` budget. Every global state
 * is hashed by a canonical serialization (canonical.ts) and visited once; interchangeable nodes
 * (symmetry groups) are folded into one representative; `always` runs on every new state, and a
 * violation comes back with the shortest path to it (breadth-first order).
 *
 * This file holds the search loop; space/ holds its interface (types.ts), the model of the system and its
 * transitions (model.ts), the symmetry reduction (symmetry.ts), the visited set (visited.ts) and the
 * counterexample's path (path.ts).
 */
import { parseKey, SpaceModel, type Global } from './space/model.ts';
import { pathTo, type SearchTree } from './space/path.ts';
import { SymmetryReduction } from './space/symmetry.ts';
import { FingerprintSet, GrowableInt32 } from './space/visited.ts';
import type { SpaceView, StateSpaceOptions, StateSpaceReport } from './space/types.ts';

export type {
  SpaceMessage,
  SpaceInput,
  SpaceMachine,
  SpaceNode,
  Symmetry,
  Monitor,
  SpaceView,
  StateSpaceOptions,
  StateSpaceReport,
} from './space/types.ts';

export function checkStateSpace<S, H = undefined>(o: StateSpaceOptions<S, H>): StateSpaceReport {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const maxStates = o.maxStates ?? 20_000_000;
  const lossesSubsumed = o.lossAsDelay === true && (o.drops ?? 0) > 0;
  const model = new SpaceModel(lossesSubsumed ? { ...o, drops: 0 } : o);
  const sym = new SymmetryReduction(model, o.symmetry);
  const ranks = o.nodes.map((x) => x.rank);

  const first = sym.canon(model.start());
  const visited = new FingerprintSet();
  visited.add(first.key);
  const tree: SearchTree = { parent: new GrowableInt32(), action: new GrowableInt32(), perm: new GrowableInt32() };
  tree.parent.push(-1);
  tree.action.push(-1);
  tree.perm.push(first.perm);
  let transitions = 0;
  let depth = 0;
  let failure: StateSpaceReport['failure'];

  const violation = (g: Global): string | undefined => {
    try {
      const r = o.always!(lossesSubsumed ? withoutNetwork(model.view(g)) : model.view(g));
      return typeof r === 'string' ? r : undefined;
    } catch (err) {
      if (err instanceof NetworkUnseen) throw err;
      return err instanceof Error ? err.message : String(err);
    }
  };
  const check = (g: Global, index: number): boolean => {
    if (!o.always) return false;
    const problem = violation(g);
    if (problem === undefined) return false;
    // Told in the ranks of the path's own last state (the one reached is its orbit's representative).
    const { lines, sigma } = pathTo(index, tree, model, sym, ranks, o.describe);
    failure = { message: violation(sym.renameGlobal(g, sigma, sym.renameNodes(g, sigma))) ?? problem, depth, path: lines };
    return true;
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
        const stop = model.successors(parseKey(level.keys[f]), (a, raw) => {
          transitions++;
          const c = sym.canon(raw);
          if (!visited.add(c.key)) return false;
          const k = tree.parent.length;
          tree.parent.push(index);
          tree.action.push(a);
          tree.perm.push(c.perm);
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
      o.onLevel?.({ depth, states: tree.parent.length, transitions, frontier: level.keys.length });
    }
    if (level.keys.length === 0) depth--;
  }
  return {
    states: tree.parent.length,
    transitions,
    depth,
    nodeStates: model.snap.length,
    steps: model.steps,
    exhausted: exhausted && !failure,
    lossesSubsumed,
    seconds: (performance.now() - started) / 1000,
    cpuSeconds: cpuSince(cpu),
    ...(failure ? { failure } : {}),
  };
}

class NetworkUnseen extends Error {}

/** The view without its network: losses change it, so an invariant proven with `lossAsDelay` must not read it. */
function withoutNetwork<S, H>(v: SpaceView<S, H>): SpaceView<S, H> {
  return {
    states: v.states,
    monitor: v.monitor,
    get network(): never {
      throw new NetworkUnseen(
        'checkStateSpace(): the invariant reads the network, which losses change: it cannot be proven with lossAsDelay (branch on losses instead)',
      );
    },
  };
}

function cpuSince(before: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(before);
  return (d.user + d.system) / 1e6;
}
