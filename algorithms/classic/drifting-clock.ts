/**
 * A simulated physical clock that drifts (course notes B1): reads trueNow() × (1 + drift) + offset,
 * plus whatever a synchronisation algorithm has added. `trueNow` is the reference all ranks share:
 * `comm.clock.now()` in the simulator (virtual time is global); under dsrun an example passes a
 * time common to the processes of one machine.
 */
import type { Communicator } from 'dsmpi';

export class DriftingClock {
  /** Total correction applied so far. */
  adjustmentMs = 0;

  constructor(
    readonly trueNow: () => number,
    readonly drift: number,
    readonly offsetMs: number,
  ) {}

  /** The clock's reading now. */
  read(): number {
    return this.readAt(this.trueNow());
  }

  /** What the clock reads (or read) at true time `t`. */
  readAt(t: number): number {
    return t * (1 + this.drift) + this.offsetMs + this.adjustmentMs;
  }

  /** Steps the clock by `deltaMs`. */
  adjust(deltaMs: number): void {
    this.adjustmentMs += deltaMs;
  }
}

export interface DriftOptions {
  /** |drift| ≤ this (default 1e-4: 100 ppm). */
  maxDrift?: number;
  /** |offset| ≤ this (default 1000 ms). */
  maxOffsetMs?: number;
  trueNow?: () => number;
}

/** A clock with drift and offset drawn from comm.random(). */
export function randomDriftingClock(comm: Communicator, o: DriftOptions = {}): DriftingClock {
  const maxDrift = o.maxDrift ?? 1e-4;
  const maxOffsetMs = o.maxOffsetMs ?? 1000;
  const drift = (2 * comm.random() - 1) * maxDrift;
  const offsetMs = (2 * comm.random() - 1) * maxOffsetMs;
  return new DriftingClock(o.trueNow ?? (() => comm.clock.now()), drift, offsetMs);
}

/** The parameters a rank reports so a checker can read every clock at one true instant. */
export interface ClockReport {
  rank: number;
  drift: number;
  offsetMs: number;
  adjustmentMs: number;
  /** The bound the algorithm claims on this clock's error right after its sync, against the reference. */
  errorBoundMs: number;
  /** True time of the sync. */
  syncedAtMs: number;
}

export function reportOf(rank: number, c: DriftingClock, errorBoundMs: number, syncedAtMs: number): ClockReport {
  return { rank, drift: c.drift, offsetMs: c.offsetMs, adjustmentMs: c.adjustmentMs, errorBoundMs, syncedAtMs };
}

const readAt = (r: ClockReport, t: number): number => t * (1 + r.drift) + r.offsetMs + r.adjustmentMs;
const readBefore = (r: ClockReport, t: number): number => t * (1 + r.drift) + r.offsetMs;

/** The largest difference between two clocks at true time `t`, with and without the corrections. */
export function maxSkew(reports: readonly ClockReport[], t: number): { beforeMs: number; afterMs: number } {
  const after = reports.map((r) => readAt(r, t));
  const before = reports.map((r) => readBefore(r, t));
  const spread = (xs: number[]): number => Math.max(...xs) - Math.min(...xs);
  return { beforeMs: spread(before), afterMs: spread(after) };
}

/**
 * The bound on the skew between two synced clocks at true time `t`: each is within its error bound
 * of the reference at its sync and then drifts apart from it by at most |drift − reference drift|
 * per unit of time.
 */
export function skewBound(reports: readonly ClockReport[], reference: ClockReport, t: number): number {
  const errs = reports.map((r) => r.errorBoundMs + Math.abs(r.drift - reference.drift) * Math.abs(t - r.syncedAtMs));
  errs.sort((a, b) => b - a);
  return (errs[0] ?? 0) + (errs[1] ?? 0);
}
