/**
 * The clock of traces under dsrun: epoch milliseconds with sub-millisecond resolution, on one time
 * line for every process of a machine, so the launcher's, its agents' and every rank's times line up.
 *
 * It is the machine's monotonic clock (process.hrtime: CLOCK_MONOTONIC, one clock for all the
 * processes of a machine) plus one anchor, epoch ms − monotonic ms. dsrun (on another host, that
 * host's agent) measures the anchor once and hands it to its ranks in DSMPI_CLOCK_ANCHOR; a process
 * started without it (runLocal, mpirun, a script of its own) measures its own, as a rule to within microseconds.
 * performance.timeOrigin + performance.now() is no such line: each process fixes its timeOrigin on
 * its own during start-up, and processes started at once on a loaded machine disagree by up to
 * 126 ms (measured with twelve).
 */
import { Env } from './rendezvous.ts';

/**
 * How far a handed anchor may put now from Date.now(): far above Date.now()'s 1 ms steps and what
 * NTP slews the wall clock by in a long job, far below the difference of two machines' boot times
 * (an anchor from another machine, or from before a reboot, is that far off).
 */
const ANCHOR_TOLERANCE_MS = 1_000;

/** A measurement is done when it has pinned the anchor to a window this narrow (the loop's step is ~0.2 µs). */
const ANCHOR_WINDOW_MS = 0.005;
/**
 * Else it stops here and takes the middle of its window. Under heavy load a process runs in slices
 * shorter than Date.now()'s millisecond, one every few tens of milliseconds, and needs a few of them.
 */
const MEASURE_LIMIT_MS = 200;

let anchorMs: number | undefined;

/** The machine's monotonic clock in milliseconds (since boot on Linux): the same in every process. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Now, as epoch milliseconds on this machine's one time line. */
export function epochMs(): number {
  return monotonicMs() + anchor();
}

/** This process's anchor as its ranks get it (DSMPI_CLOCK_ANCHOR), so that they read its time line. */
export function clockAnchorText(): string {
  return String(anchor());
}

/** This process's anchor, taken once: the one handed in DSMPI_CLOCK_ANCHOR, or measured. */
function anchor(): number {
  return (anchorMs ??= startAnchor(process.env[Env.clockAnchor]));
}

/**
 * Reads a handed anchor: its value in ms, or why it cannot be this machine's (unreadable, or it puts
 * now more than ANCHOR_TOLERANCE_MS away from `wallMs`, the epoch time read at `monoMs`).
 */
export function parseClockAnchor(text: string, monoMs: number, wallMs: number): { anchorMs: number } | { reason: string } {
  const anchor = text.trim() === '' ? NaN : Number(text);
  if (!Number.isFinite(anchor)) return { reason: 'is not a number' };
  const offMs = monoMs + anchor - wallMs;
  if (Math.abs(offMs) > ANCHOR_TOLERANCE_MS) {
    return { reason: `puts now ${(offMs / 1000).toFixed(1)} s away from this machine's clock: it is not this machine's anchor` };
  }
  return { anchorMs: anchor };
}

/**
 * Epoch ms − monotonic ms, measured. Date.now() counts whole milliseconds, rounded down: a reading D
 * between monotonic readings b and a says the anchor is at least D − a and below D + 1 − b. A
 * reading just after Date.now() ticks pins the first bound, one just before a tick the second; the
 * loop reads until the bounds are ANCHOR_WINDOW_MS apart (about a millisecond of spinning on a free
 * core, at most MEASURE_LIMIT_MS) and takes their middle.
 */
export function measureClockAnchor(): number {
  let low = -Infinity;
  let high = Infinity;
  const limit = monotonicMs() + MEASURE_LIMIT_MS;
  for (;;) {
    const before = monotonicMs();
    const wall = Date.now();
    const after = monotonicMs();
    low = Math.max(low, wall - after);
    high = Math.min(high, wall + 1 - before);
    if (high - low <= ANCHOR_WINDOW_MS || after > limit) return (low + high) / 2;
  }
}

/** The handed anchor if there is a good one, else one measured here (saying why on stderr). */
function startAnchor(text: string | undefined): number {
  if (text === undefined || text === '') return measureClockAnchor();
  const handed = parseClockAnchor(text, monotonicMs(), Date.now());
  if ('anchorMs' in handed) return handed.anchorMs;
  process.stderr.write(
    `dsmpi: ${Env.clockAnchor}='${text}' ${handed.reason}; this process measures its own clock anchor instead (as a rule within microseconds of the machine's other processes)\n`,
  );
  return measureClockAnchor();
}

/** Readings of a clock and of epochMs() taken for epochOffsetMs(); the tightest bracket wins. */
const OFFSET_READINGS = 64;

/**
 * What to add to `now()` readings (a rank's `comm.clock.now()`) to put them on epochMs()'s time line.
 * One pair of readings is not enough: the process can be preempted between them (by milliseconds on
 * a loaded machine), and the first calls run cold. Each reading of epochMs() is bracketed by two of
 * `now()`; the narrowest bracket gives the offset, as a rule to within a microsecond.
 */
export function epochOffsetMs(now: () => number): number {
  let width = Infinity;
  let offset = 0;
  for (let i = 0; i < OFFSET_READINGS; i++) {
    const before = now();
    const epoch = epochMs();
    const after = now();
    if (after - before < width) {
      width = after - before;
      offset = epoch - (before + after) / 2;
    }
  }
  return offset;
}
