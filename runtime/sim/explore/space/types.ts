/**
 * The interface of the stateful search (state-space.ts): the machines and nodes it explores, the
 * options, and its report. Its own file so that the search's parts (model, symmetry, path) and the
 * search loop import it without importing each other in a circle.
 *
 * The machine interface is restated here (structurally the algorithms' `Machine`) because the
 * simulator does not import the algorithms.
 */
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
  /**
   * Prove the `drops` budget without branching on losses (default false: each loss is a choice).
   * The network is asynchronous and nothing moves a message but its delivery, so a lost message is,
   * to every node and to the monitor, one delayed forever: on any path, leaving a lost message in
   * flight instead keeps every later step enabled and every node state, timer budget and monitor
   * value the same, step by step (the network only holds more). The states of the nodes and the
   * monitor reachable with any number of losses are then those reachable with none, and the search
   * without losses proves an invariant on them for every loss budget. An invariant that reads the
   * network is refused (`view.network` throws), since the network is the one thing losses change.
   */
  lossAsDelay?: boolean;
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
  /** The search proved a loss budget by searching without losses (`lossAsDelay`): its verdict holds for any number of losses. */
  lossesSubsumed: boolean;
  seconds: number;
  /** CPU seconds the search took (user + system): the rate per core, on a loaded machine too. */
  cpuSeconds: number;
  failure?: { message: string; depth: number; path: string[] };
}
