/**
 * How a role leaves a protocol that has reached its outcome, without stranding anyone. A rank that
 * knows the outcome announces it to every rank (a `Farewell` message of the algorithm's tag table,
 * carrying the outcome, so a rank that missed the protocol's own messages learns it from there) once
 * per period. It leaves when every rank not known to be dead has announced the same (so all know)
 * and it has announced for `lingerMs` more (so its own announcements had their chance), or once
 * every rank that has not announced has been silent for `maxLingerMs` (it left, crashed, or is cut
 * off for long). A rank that has not announced but still talks is still running the protocol
 * without the outcome (its announcements may be lost, or a one-way cut may keep ours from it), so
 * this rank stays and keeps announcing until the outcome gets through. Over a lossy link nobody can
 * be sure the last message arrived (two generals): the linger makes that unlikely and the silence
 * bound keeps every run bounded.
 */
import { range } from './serve-loop.ts';

export interface FarewellOptions {
  periodMs: number;
  lingerMs: number;
  maxLingerMs: number;
}

export const defaultFarewell: FarewellOptions = { periodMs: 10, lingerMs: 30, maxLingerMs: 3_000 };

export interface Farewell {
  /** When this rank knew the outcome. */
  sinceMs: number;
  /** When everyone alive had announced (then the linger starts). */
  allHeardAtMs: number | undefined;
  nextAnnounceMs: number;
  heard: boolean[];
  /** The last time a rank that has not announced was heard from (at the start: when this rank knew). */
  unheardActiveMs: number;
  done: boolean;
}

export function startFarewell(rank: number, size: number, nowMs: number): Farewell {
  const heard = new Array<boolean>(size).fill(false);
  heard[rank] = true;
  return { sinceMs: nowMs, allHeardAtMs: undefined, nextAnnounceMs: nowMs, heard, unheardActiveMs: nowMs, done: false };
}

/** A peer announced the outcome. */
export function farewellHeard(f: Farewell, from: number): void {
  f.heard[from] = true;
}

/** Any message from `from` (call it for every one): a peer that has not announced yet is still running. */
export function farewellSaw(f: Farewell, from: number, nowMs: number): void {
  if (!f.heard[from]) f.unheardActiveMs = Math.max(f.unheardActiveMs, nowMs);
}

/**
 * At a tick: whether to announce now (to every other rank), and whether the rank may leave. `failed`
 * are ranks the runtime reports dead (they will never announce).
 */
export function farewellTick(
  f: Farewell,
  rank: number,
  nowMs: number,
  failed: readonly number[],
  o: FarewellOptions,
): { announce: boolean } {
  if (f.done) return { announce: false };
  const everyone = f.heard.every((h, r) => h || failed.includes(r));
  if (everyone && f.allHeardAtMs === undefined) f.allHeardAtMs = nowMs;
  if (nowMs >= leaveAt(f, o)) {
    f.done = true;
    return { announce: false };
  }
  if (nowMs >= f.nextAnnounceMs) {
    f.nextAnnounceMs = nowMs + o.periodMs;
    return { announce: true };
  }
  return { announce: false };
}

/** When the rank may leave (the same expression as the test in farewellTick, so rounding agrees). */
function leaveAt(f: Farewell, o: FarewellOptions): number {
  return Math.min(f.unheardActiveMs + o.maxLingerMs, f.allHeardAtMs === undefined ? Infinity : f.allHeardAtMs + o.lingerMs);
}

export function farewellWakeAt(f: Farewell, o: FarewellOptions): number {
  return Math.min(f.nextAnnounceMs, leaveAt(f, o));
}

/** Every rank but `rank`. */
export function others(rank: number, size: number): number[] {
  return range(0, size).filter((r) => r !== rank);
}
