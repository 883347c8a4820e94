/**
 * How a role leaves a protocol that has reached its outcome, without stranding anyone. A rank that
 * knows the outcome announces it to every rank once per period (a `Farewell` message of the
 * algorithm's tag table, carrying the outcome, so a rank that missed the protocol's own messages
 * learns it from there, and `heard`: the ranks whose announcements this rank has received).
 *
 * A rank leaves once every other rank not reported dead
 * - knows the outcome (it announced it), so no rank is left without it: a rank that has not
 *   announced is waited for however long it is silent (a restarting rank comes back; a partition
 *   heals; a rank that stops for good is reported dead), and
 * - has heard this rank's announcement (its `heard` names this rank), so no rank waits for news of
 *   this one after it left; or that rank has been silent for `maxLingerMs`: it knows the outcome and
 *   left, its last announcements lost (two generals: nobody can be sure its last message arrived);
 * and then announces for `lingerMs` more, so its own announcements have their chance.
 *
 * serve() runs this for a machine that declares its outcome (`Machine.farewell`, a FarewellSpec):
 * `withFarewell` wraps the machine, so the protocol's own step only says what the outcome is and how
 * it takes one announced to it.
 *
 * An algorithm persists its outcome before it first announces (serve()'s persist hook runs before
 * messages go out), so a rank that restarts after announcing knows the outcome again. Such a
 * `recovered` rank also stops waiting for a rank it has not heard from once that rank has been
 * silent for `maxLingerMs`: the others may have left while it was down, which they do only once
 * every rank knew the outcome, and a rank that does not know it is still waited for by the others.
 */
import { others, toAll, type Input, type Machine, type Out } from './machine.ts';

export interface FarewellOptions {
  periodMs: number;
  lingerMs: number;
  maxLingerMs: number;
}

export const defaultFarewell: FarewellOptions = { periodMs: 10, lingerMs: 30, maxLingerMs: 3_000 };

export interface Farewell {
  rank: number;
  /** When this rank knew the outcome. */
  sinceMs: number;
  /** When every rank was accounted for (then the linger starts). */
  allHeardAtMs: number | undefined;
  nextAnnounceMs: number;
  /** Ranks that announced the outcome to this one (they know it). */
  heard: boolean[];
  /** Ranks whose announcement named this rank (they know this one knows). */
  heardMe: boolean[];
  /** When each rank was last heard from, by any message. */
  lastHeardMs: number[];
  /** Started from a persisted outcome after a restart. */
  recovered: boolean;
  done: boolean;
}

export function startFarewell(rank: number, size: number, nowMs: number, recovered = false): Farewell {
  const heard = new Array<boolean>(size).fill(false);
  const heardMe = new Array<boolean>(size).fill(false);
  heard[rank] = heardMe[rank] = true;
  return {
    rank,
    sinceMs: nowMs,
    allHeardAtMs: undefined,
    nextAnnounceMs: nowMs,
    heard,
    heardMe,
    lastHeardMs: new Array<number>(size).fill(nowMs),
    recovered,
    done: false,
  };
}

/**
 * A peer announced the outcome; `theirHeard` is the `heard` list its announcement carried. Knowing
 * the outcome passes on: every rank in that list announced it, so it knows it too (a rank that
 * restarts after one of them left learns this way that the one it never heard knew).
 */
export function farewellHeard(f: Farewell, from: number, theirHeard: readonly number[] | undefined): void {
  f.heard[from] = true;
  for (const r of theirHeard ?? []) if (Number.isInteger(r) && r >= 0 && r < f.heard.length) f.heard[r] = true;
  if (theirHeard?.includes(f.rank)) f.heardMe[from] = true;
}

/** Any message from `from` (call it for every one, announcements too). */
export function farewellSaw(f: Farewell, from: number, nowMs: number): void {
  f.lastHeardMs[from] = Math.max(f.lastHeardMs[from], nowMs);
}

/** The `heard` list an announcement carries. */
export function farewellHeardList(f: Farewell): number[] {
  return f.heard.flatMap((h, r) => (h ? [r] : []));
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
  const silent = (r: number): boolean => nowMs - f.lastHeardMs[r] >= o.maxLingerMs;
  const settled = (r: number): boolean => failed.includes(r) || (f.heard[r] ? f.heardMe[r] || silent(r) : f.recovered && silent(r));
  if (f.allHeardAtMs === undefined && f.heard.every((_, r) => settled(r))) f.allHeardAtMs = nowMs;
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
  return f.allHeardAtMs === undefined ? Infinity : f.allHeardAtMs + o.lingerMs;
}

export function farewellWakeAt(f: Farewell, o: FarewellOptions): number {
  return Math.min(f.nextAnnounceMs, leaveAt(f, o));
}

/** What a machine declares so that serve() ends it with the farewell (`Machine.farewell`). */
export interface FarewellSpec<S> {
  /** The announcement's tag, from the algorithm's tag table; the machine's step sees each one too. */
  tag: number;
  options(state: S): FarewellOptions;
  /** The outcome's fields as announced (the announcement adds `heard`), or undefined while this rank knows none. */
  outcome(state: S): object | undefined;
  /**
   * After the machine's step has taken an announcement: whether it announced this rank's outcome,
   * so that its `heard` list counts (default: yes, whenever this rank knows an outcome).
   */
  agrees?(state: S, data: unknown): boolean;
  /** At a tick, before the step: give up the outcome known so far (the machine forgets it) and return true. */
  abandon?(state: S, failed: readonly number[]): boolean;
}

/** A machine's state with its farewell, once it knows its outcome. */
export interface WithFarewell<S> {
  state: S;
  rank: number;
  size: number;
  farewell: Farewell | undefined;
}

/** The state to start from: an outcome known already was restored from storage (a restart). */
export function startWithFarewell<S>(spec: FarewellSpec<S>, state: S, rank: number, size: number, nowMs: number): WithFarewell<S> {
  const farewell = spec.outcome(state) === undefined ? undefined : startFarewell(rank, size, nowMs, true);
  return { state, rank, size, farewell };
}

/**
 * The machine with its farewell: it starts once the step has learnt the outcome, notes who was
 * heard, announces the outcome at each tick it is due, and ends the run.
 */
export function withFarewell<S>(machine: Machine<S>, spec: FarewellSpec<S>): Machine<WithFarewell<S>> {
  return {
    step(w, input: Input): [WithFarewell<S>, Out[]] {
      if (input.type === 'tick' && w.farewell && spec.abandon?.(w.state, input.failed)) w.farewell = undefined;
      const running = w.farewell;
      if (running && input.type === 'message') farewellSaw(running, input.source, input.nowMs);
      const [state, out] = machine.step(w.state, input);
      w.state = state;
      if (!w.farewell && spec.outcome(state) !== undefined) w.farewell = startFarewell(w.rank, w.size, input.nowMs);
      if (input.type === 'message') {
        if (input.tag === spec.tag && w.farewell && (spec.agrees?.(state, input.data) ?? true))
          farewellHeard(w.farewell, input.source, (input.data as { heard?: number[] }).heard);
      } else if (running && farewellTick(running, w.rank, input.nowMs, input.failed, spec.options(state)).announce) {
        out.push(...toAll(others(w.rank, w.size), spec.tag, { ...spec.outcome(state), heard: farewellHeardList(running) }));
      }
      return [w, out];
    },
    wakeAtMs(w) {
      const own = machine.wakeAtMs(w.state);
      return w.farewell ? Math.min(own ?? Infinity, farewellWakeAt(w.farewell, spec.options(w.state))) : own;
    },
    done: (w) => (w.farewell?.done ?? false) || machine.done(w.state),
    persist: machine.persist && ((w, storage) => machine.persist!(w.state, storage)),
  };
}
