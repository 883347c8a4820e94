/**
 * Stateful breadth-first search over roles written as pure state machines (the `serve()` machines
 * of the algorithms: `step(state, input) → [state, out[]]`, `wakeAtMs`, `done`), with the network
 * as a multiset of messages in flight: any message may be delivered next (asynchronous), up to
 * `drops` may be lost, and each node's timer may fire up to its `ticks` budget. Every global state
 * is hashed by a canonical serialization (canonical.ts) and visited once; interchangeable nodes
 * (symmetry groups) are folded into one representative; `always` runs on every new state, and a
 * violation comes back with the shortest path to it (breadth-first order).
 *
 * This file holds the interface and the search loop; space/ holds the model of the system and its
 * transitions (model.ts), the symmetry reduction (symmetry.ts), the visited set (visited.ts) and the
 * counterexample's path (path.ts).
 *
 * The machine interface is restated here (structurally the algorithms' `Machine`) because the
 * simulator does not import the algorithms.
 */
import { parseKey, SpaceModel, type Global } from './space/model.ts';
import { pathTo, type SearchTree } from './space/path.ts';
import { SymmetryReduction } from './space/symmetry.ts';
import { FingerprintSet, GrowableInt32 } from './space/visited.ts';

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
   * Messages whose delivery can change nothing, now or after anything that may happen next: the
   * receiver, in `state`, ignores them (a reply to a ballot it has left behind), or it answers
   * without changing its state and its answer is obsolete at the sender, in `sender` (its state, when
   * the sender is a node). They leave the network. The model vouches for it (the answer must stay
   * so as both states move on); it saves the states that differ only in which such messages are
   * still in flight. Losing such a message is never needed either: it only spends the budget.
   */
  obsolete?: (state: S, m: SpaceMessage, sender: S | undefined) => boolean;
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

export function checkStateSpace<S, H = undefined>(o: StateSpaceOptions<S, H>): StateSpaceReport {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const maxStates = o.maxStates ?? 20_000_000;
  const model = new SpaceModel(o);
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
      const r = o.always!(model.view(g));
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
    seconds: (performance.now() - started) / 1000,
    cpuSeconds: cpuSince(cpu),
    ...(failure ? { failure } : {}),
  };
}

function cpuSince(before: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(before);
  return (d.user + d.system) / 1e6;
}
