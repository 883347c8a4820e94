import type { Engine } from './engine.ts';
import type { RankContext } from './rank-context.ts';

/**
 * What the features of a communicator (collectives, split and shrink, one-sided, spawn) know of it:
 * its members and contexts, never the Communicator facade itself.
 */
export class CommScope {
  readonly rankContext: RankContext;
  readonly engine: Engine;
  /** Context id of point-to-point traffic; collectives use `context + 1`. */
  readonly context: number;
  /** World rank of each member. */
  readonly group: readonly number[];
  readonly rank: number;
  readonly size: number;
  /** True for the world communicator of ranks 0..size-1 (the engine then translates no ranks). */
  readonly isWorld: boolean;
  /** One-sided objects created so far (creation is collective, so the count is the same everywhere). */
  objects = 0;
  /** shrink() and agree() calls so far on this communicator (the same count on every live member). */
  shrinks = 0;

  constructor(rankContext: RankContext, context: number, group: readonly number[]) {
    this.rankContext = rankContext;
    this.engine = rankContext.engine;
    this.context = context;
    this.group = group;
    this.rank = group.indexOf(this.engine.rank);
    this.size = group.length;
    this.isWorld = group.length === this.engine.size && group.every((w, i) => w === i);
  }
}

/** A communicator to create: its context id and members (world ranks). */
export interface NewGroup {
  context: number;
  group: readonly number[];
}
