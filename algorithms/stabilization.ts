/**
 * Stabilization by averaging (book 4.4; the stabilization program done right). Every rank holds a
 * value; each round the ranks learn the mean (an allreduce of the sum), every rank farther than
 * `threshold` from it moves `rate` of the way toward it, and the run stops when every rank is stable
 * (an allreduce of the stable flags). Every unstable rank's distance to the mean shrinks by
 * (1 − rate) a round, and ranks already within the threshold stay put (so the mean drifts by less
 * than the threshold): it converges for any n, in about log(spread / threshold) / −log(1 − rate)
 * rounds. A perturbed rank (its value knocked away after
 * the system first stabilised) is pulled back the same way, to the new mean.
 */
import type { Communicator } from 'dsmpi';

export interface StabilizationOptions {
  /** Stable when |value − mean| ≤ threshold (default 0.5). */
  threshold?: number;
  /** Fraction of the distance to the mean moved each round, in (0, 1] (default 0.5). */
  rate?: number;
  /** Safety cap on rounds per phase (default 1000). */
  maxRounds?: number;
  /** After the first stabilization, add `by` to rank `rank`'s value and stabilise again. */
  perturb?: { rank: number; by: number };
  /** Called every round with this rank's report. */
  onRound?: (r: StabilizationRound) => void;
}

export interface StabilizationRound {
  phase: number;
  round: number;
  /** The value before this round's step. */
  value: number;
  mean: number;
  diff: number;
  adjusted: boolean;
  /** The value after the step. */
  next: number;
}

export interface StabilizationResult {
  initial: number;
  final: number;
  mean: number;
  /** Rounds to stabilise, per phase (one phase, two with a perturbation). */
  rounds: number[];
  stable: boolean;
}

/** One rank's step: pure. Returns the next value and whether it moved. */
export function stabilizationStep(
  value: number,
  mean: number,
  threshold: number,
  rate: number,
): { next: number; adjusted: boolean; diff: number } {
  const diff = Math.abs(value - mean);
  if (diff <= threshold) return { next: value, adjusted: false, diff };
  return { next: value + rate * (mean - value), adjusted: true, diff };
}

export async function stabilize(comm: Communicator, initial: number, options: StabilizationOptions = {}): Promise<StabilizationResult> {
  const threshold = options.threshold ?? 0.5;
  const rate = options.rate ?? 0.5;
  const maxRounds = options.maxRounds ?? 1000;
  if (!(rate > 0 && rate <= 1)) throw new RangeError(`stabilize: rate must be in (0, 1], got ${rate}`);
  let value = initial;
  let mean = initial;
  const rounds: number[] = [];
  let stable = false;
  const phases = options.perturb ? 2 : 1;
  for (let phase = 1; phase <= phases; phase++) {
    if (phase === 2 && options.perturb && comm.rank === options.perturb.rank) value += options.perturb.by;
    let round = 0;
    stable = false;
    while (!stable && round < maxRounds) {
      round++;
      mean = (await comm.allreduce(value, 'sum')) / comm.size;
      const step = stabilizationStep(value, mean, threshold, rate);
      options.onRound?.({ phase, round, value, mean, diff: step.diff, adjusted: step.adjusted, next: step.next });
      value = step.next;
      stable = await comm.allreduce(!step.adjusted, 'land');
      if (stable) comm.note('stable', { phase, round, value });
    }
    rounds.push(round);
  }
  return { initial, final: value, mean, rounds, stable };
}
