/**
 * A simulated physical clock that drifts (course notes B1): reads trueNow() × (1 + drift) + offset,
 * plus whatever a synchronisation algorithm has added. `trueNow` is the reference all ranks share:
 * `comm.clock.now()` in the simulator (virtual time is global); under dsrun an example passes a
 * time common to the processes of one machine.
 */
import type { Communicator } from 'dsmpi';
import { InvariantError } from '../checkers/consensus-invariants.ts';

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

/** Covers the simulator's 1 µs clock resolution and drift during the exchanges. */
export const CLOCK_SLACK_MS = 0.01;

/**
 * Checks a synchronisation: each clock within its claimed error bound of the reference
 * (`reports[0]`) at its sync, and the largest skew at the last sync within `skewBound`. With
 * `measuredFromMs`, each clock may also have drifted from the reference since that time (when the
 * run may pause a rank between measuring its offset and applying it: the bound holds at the
 * measurement).
 */
export function checkClockSync(reports: readonly ClockReport[], options: { measuredFromMs?: (r: ClockReport) => number } = {}): void {
  const ref = reports[0];
  const drifted = (r: ClockReport): number =>
    Math.abs(r.drift - ref.drift) * (r.syncedAtMs - (options.measuredFromMs?.(r) ?? r.syncedAtMs));
  for (const r of reports) {
    const err = Math.abs(readAt(r, r.syncedAtMs) - readAt(ref, r.syncedAtMs));
    if (!(err <= r.errorBoundMs + drifted(r) + CLOCK_SLACK_MS))
      throw new InvariantError('clock bound', `rank ${r.rank}: off by ${err} ms at its sync, bound ${r.errorBoundMs} ms`);
  }
  const end = Math.max(...reports.map((r) => r.syncedAtMs));
  const { afterMs } = maxSkew(reports, end);
  const bound = skewBound(reports, ref, end) + 2 * Math.max(...reports.map(drifted));
  if (!(afterMs <= bound + CLOCK_SLACK_MS)) throw new InvariantError('clock bound', `skew ${afterMs} ms > bound ${bound} ms`);
}
