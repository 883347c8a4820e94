/**
 * What whatever starts a rank (dsrun, the simulator) does for it on request: start and end ranks,
 * agree on a shrink's survivors. Handed to the rank's context (rank-context.ts).
 */

/** What a spawned rank is told at its start: its parent's world rank, the intercomm's context, its world. */
export interface SpawnInfo {
  parent: number;
  context: number;
  /** World ranks of the ranks spawned together: the child's `world`, in order. */
  group: number[];
}

export interface SpawnOptions {
  /**
   * What the children run. dsrun: a program path (default: the job's own program, as a bundle);
   * simulate(): a key of `SimulateOptions.programs` (default: the job's own main).
   */
  program?: string;
  /** Command-line arguments of the children (dsrun; default: the job's own arguments). */
  args?: string[];
}

/** Who carries out spawn and retire for a rank: dsrun's coordinator, or the simulator. */
export interface SpawnService {
  /** Starts `n` ranks whose parent intercomm uses `context`; resolves to their world ranks. */
  spawn(n: number, context: number, options: SpawnOptions): Promise<number[]>;
  /** This rank leaves the job (its transport is flushed first). Need not return. */
  retire(): Promise<void>;
}

/**
 * Who decides a shrink's membership. Under dsrun it is the launcher's coordinator, which is also the
 * failure detector: every rank's view of who is dead comes from it, so it is the natural referee.
 */
export interface MembershipService {
  /**
   * Resolves when every member of `members` (world ranks) has either called this with the same `key`,
   * or is dead, or has finished its program: `alive` lists those that called, in `members` order;
   * `context` is a context id free on all of them; `flag` is the AND of the callers' flags.
   */
  shrink(key: string, members: readonly number[], nextContext: number, flag?: boolean): Promise<MembershipOutcome>;
}

export interface MembershipOutcome {
  alive: number[];
  context: number;
  flag?: boolean;
}
