/**
 * The autoscaler's decision (book 8.4.1 and exercise 7; spec 2.7, autoscaling.py): the book's
 * thresholds, 25 % and 75 % of CPU busy, without the original's gap at exactly 75 and with
 * hysteresis, as a pure function of the state and one load sample.
 *
 * Bands, contiguous half-open intervals, so every load falls in exactly one (no gap, no overlap):
 *   low  = [0, lowPercent)            → remove workers
 *   hold = [lowPercent, highPercent)  → keep the pool (the dead band)
 *   high = [highPercent, ∞)           → add workers
 * Hysteresis: acting needs `patience` samples in a row in the same band (one spike does not scale),
 * and after each action `cooldown` samples are held while the new pool's effect shows in the load.
 * The pool always stays within [minWorkers, maxWorkers]; below the minimum it is refilled at once.
 */

export interface ScalePolicy {
  /** Below this busy percentage, workers are removed (book: MIN_THRESHOLD = 25). */
  lowPercent: number;
  /** At or above this busy percentage, workers are added (book: MAX_THRESHOLD = 75). */
  highPercent: number;
  minWorkers: number;
  maxWorkers: number;
  /** Workers added or removed per decision (incremental scaling). */
  step: number;
  /** Samples in a row in the low or high band before acting. */
  patience: number;
  /** Samples held after an action. */
  cooldown: number;
}

export const defaultPolicy: ScalePolicy = {
  lowPercent: 25,
  highPercent: 75,
  minWorkers: 1,
  maxWorkers: 8,
  step: 1,
  patience: 2,
  cooldown: 1,
};

export type Band = 'low' | 'hold' | 'high';

export interface ScaleState {
  /** Band of the last sample and how many samples in a row fell in it. */
  band: Band;
  streak: number;
  /** Samples still to hold after the last action. */
  cooling: number;
}

export const initialScaleState: ScaleState = {
  band: 'hold',
  streak: 0,
  cooling: 0,
};

export interface Decision {
  state: ScaleState;
  /** Workers to add (> 0), to remove (< 0), or 0: hold. */
  delta: number;
}

/** The band of a load sample, in percent busy. */
export function bandOf(loadPercent: number, policy: ScalePolicy): Band {
  if (loadPercent >= policy.highPercent) return 'high';
  if (loadPercent < policy.lowPercent) return 'low';
  return 'hold';
}

/** Checks a policy once, before any sample: programmer errors throw at once. */
export function checkPolicy(policy: ScalePolicy): ScalePolicy {
  const p = policy;
  const ok =
    p.lowPercent >= 0 &&
    p.lowPercent < p.highPercent &&
    Number.isInteger(p.minWorkers) &&
    p.minWorkers >= 0 &&
    Number.isInteger(p.maxWorkers) &&
    p.maxWorkers >= Math.max(1, p.minWorkers) &&
    Number.isInteger(p.step) &&
    p.step >= 1 &&
    Number.isInteger(p.patience) &&
    p.patience >= 1 &&
    Number.isInteger(p.cooldown) &&
    p.cooldown >= 0;
  if (!ok)
    throw new RangeError(
      `autoscaler: bad policy ${JSON.stringify(p)} (need 0 <= low < high, 0 <= min <= max, max >= 1, step and patience >= 1)`,
    );
  return p;
}

/** One step of the autoscaler: the new state and how many workers to add or remove. */
export function decide(state: ScaleState, loadPercent: number, active: number, policy: ScalePolicy): Decision {
  if (Number.isNaN(loadPercent)) return { state, delta: 0 };
  const band = bandOf(loadPercent, policy);
  const streak = band === state.band ? state.streak + 1 : 1;
  if (active < policy.minWorkers) {
    return {
      state: { band, streak: 0, cooling: policy.cooldown },
      delta: policy.minWorkers - active,
    };
  }
  if (state.cooling > 0) return { state: { band, streak, cooling: state.cooling - 1 }, delta: 0 };
  let delta = 0;
  if (streak >= policy.patience) {
    if (band === 'high') delta = Math.min(policy.step, policy.maxWorkers - active);
    if (band === 'low') delta = -Math.min(policy.step, active - policy.minWorkers);
  }
  if (delta === 0) return { state: { band, streak, cooling: 0 }, delta: 0 };
  return { state: { band, streak: 0, cooling: policy.cooldown }, delta };
}

/** The log line of one decision: `load=x active=n decision=+k/-k/hold`. */
export function formatDecision(loadPercent: number, active: number, delta: number): string {
  const decision = delta > 0 ? `+${delta}` : delta < 0 ? `${delta}` : 'hold';
  return `load=${loadPercent.toFixed(1)} active=${active} decision=${decision}`;
}
