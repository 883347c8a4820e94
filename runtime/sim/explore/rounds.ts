/**
 * Iterative deepening over deviations from the simulator's own order, shared by delay bounding and
 * DPOR: round k takes only the choices that bring an execution's deviations to at most k, and
 * leaves the others for a later round; with `shallowFirst`, each round runs in passes, its deviations
 * taken first only at the first N steps of a run, then 2N, … until a pass leaves no step out.
 */
import { DsError, ErrorCode } from '../../errors.ts';
import type { Choice } from './schedule.ts';

/**
 * What a round bounds: `delays`, a delay of i costs i (taking the i-th enabled event); `deviations`,
 * each choice other than the simulator's next costs 1, however far down the enabled set it is (a
 * timer fired ahead of every message due before it is one deviation, not as many as those messages).
 * A loss and a chosen fault cost 1 either way.
 */
export type RoundCost = 'delays' | 'deviations';

/** The strategies that search in rounds, and so take `roundCost` and `shallowFirst`. */
const IN_ROUNDS = ['delay-bounding', 'dpor'];

/** What the rounds depend on among the explorer's options. */
export interface RoundOptions {
  strategy: string;
  roundCost?: RoundCost;
  shallowFirst?: number;
  deepening?: boolean;
}

/** Refuses bad round options (DS_ERR_INVALID_ARGUMENT), naming the option, the value and the strategy. */
export function checkRoundOptions(o: RoundOptions): void {
  const { roundCost, shallowFirst } = o;
  if (roundCost !== undefined && roundCost !== 'delays' && roundCost !== 'deviations')
    invalid(`roundCost must be delays or deviations, got ${String(roundCost as unknown)}`);
  if (shallowFirst !== undefined && !(Number.isInteger(shallowFirst) && shallowFirst >= 1))
    invalid(`shallowFirst must be an integer >= 1, got ${String(shallowFirst)}`);
  const asked = shallowFirst !== undefined ? 'shallowFirst' : roundCost === 'deviations' ? "roundCost 'deviations'" : undefined;
  if (asked === undefined) return;
  if (!IN_ROUNDS.includes(o.strategy)) invalid(`${asked} is for the searches in rounds (${IN_ROUNDS.join(', ')}), not ${o.strategy}`);
  if (o.strategy === 'dpor' && o.deepening === false) invalid(`${asked} is for dpor in rounds, not with deepening: false`);
}

function invalid(message: string): never {
  throw new DsError(ErrorCode.InvalidArgument, `explore: ${message}`);
}

/**
 * The rounds and passes of one search. The search asks `admits` before taking a deviating choice;
 * what it refuses is noted, and `advance`, once the pass has nothing left, starts the next pass (the
 * same round, twice as deep) or the next round (bounded by the cheapest choice left out), or ends.
 */
export class Rounds {
  /** Executions in each round of 0, 1, … deviations (0: no choice of that cost); one entry without deepening. */
  readonly counts: number[] = [];
  /** The current round's bound on deviations (Infinity without deepening). */
  bound: number;
  /** The current pass takes its deviations only at steps below this. */
  private depthLimit: number;
  /** The least cost of a choice the current pass left for a later round. */
  private deferred = Infinity;
  /** Whether the current pass left a choice within the bound at a step at or past `depthLimit`. */
  private deferredDeeper = false;

  constructor(
    readonly deepening: boolean,
    private readonly roundCost: RoundCost = 'delays',
    /** Each round in passes over the first `shallowFirst` steps, then twice as many, … (default: every step at once). */
    private readonly shallowFirst = Infinity,
  ) {
    this.bound = deepening ? 0 : Infinity;
    this.depthLimit = deepening ? shallowFirst : Infinity;
  }

  /** What taking the i-th enabled event adds: i, or 1 counting deviations (0 for the simulator's next). */
  delay(index: number): number {
    return this.roundCost === 'delays' ? index : Math.min(index, 1);
  }

  /** What a choice adds to its execution's deviations: its delay, and 1 for a loss or a fault. */
  cost(choice: Choice): number {
    return this.delay(choice.index) + Number(choice.lose) + Number(!!choice.fault);
  }

  /** Counts one execution in the current round. */
  execution(): void {
    const round = this.deepening ? this.bound : 0;
    while (this.counts.length <= round) this.counts.push(0);
    this.counts[round]++;
  }

  /**
   * Whether a deviating choice that brings its execution's deviations to `cost`, at `step`, is the
   * current pass's to take; if not (and `note`), it is left for a later round or pass.
   */
  admits(cost: number, step: number, note = true): boolean {
    if (cost > this.bound) {
      if (note) this.deferred = Math.min(this.deferred, cost);
      return false;
    }
    if (step >= this.depthLimit) {
      if (note) this.deferredDeeper = true;
      return false;
    }
    return true;
  }

  /**
   * Once the current pass has nothing left: the round's next pass, from the start, twice as deep, if
   * it left choices further down the runs; else the next round, bounded by the cheapest choice left;
   * else false: the search is over, every choice within the bounds taken.
   */
  advance(): boolean {
    if (this.deferredDeeper) {
      this.depthLimit *= 2;
    } else if (this.deferred < Infinity) {
      this.bound = this.deferred;
      this.depthLimit = this.shallowFirst;
    } else {
      return false;
    }
    this.deferred = Infinity;
    this.deferredDeeper = false;
    return true;
  }
}
