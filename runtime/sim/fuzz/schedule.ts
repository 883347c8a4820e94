/**
 * A fault schedule: what the fuzzer varies from run to run, as plain data (it prints as one line of
 * JSON and replays from it). Swarm testing: each schedule enables a random subset of the simulator's
 * fault kinds, each with random intensities, so that rare combinations get their turn instead of
 * every run mixing a little of everything. fast-check draws schedules and shrinks failing ones.
 */
import fc from 'fast-check';
import type { CrashSpec, FaultOptions } from '../faults.ts';

/** The simulator's fault vocabulary, as the fuzzer names it. */
export const FAULT_KINDS = [
  'loss',
  'duplicates',
  'reordering',
  'broken-fifo',
  'delay',
  'partition',
  'one-way-partition',
  'crash-stop',
  'crash-restart',
  'pause',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface ScheduledPartition {
  /** The ranks on one side, the others are on the other side. */
  side: number[];
  atMs: number;
  forMs: number;
  /** Only messages from `side` to the others are cut. */
  oneWay: boolean;
}

export interface ScheduledCrash {
  rank: number;
  /** When: at a time, or right after the rank's k-th send to another rank, or its k-th delivery. */
  atMs?: number;
  afterSends?: number;
  afterDeliveries?: number;
  /** Crash-recovery after this long; absent: crash-stop. */
  restartAfterMs?: number;
}

export interface ScheduledPause {
  rank: number;
  atMs: number;
  forMs: number;
}

export interface FaultSchedule {
  n: number;
  /** The simulation's seed: latencies, the order of deliveries, which messages are lost. */
  seed: number;
  /** Loss, duplicates and reordering last this long (then the network is reliable). */
  noisyForMs: number;
  loss?: number;
  duplicates?: number;
  reorder?: { probability: number; maxMs: number };
  brokenFifo?: boolean;
  /** Latency uniform in 0.1..delayMs (default 0.1..1 ms). */
  delayMs?: number;
  partitions: ScheduledPartition[];
  crashes: ScheduledCrash[];
  pauses: ScheduledPause[];
}

export interface ScheduleBounds {
  minN: number;
  maxN: number;
  /** Faults start within this many ms (about how long the algorithm runs without faults). */
  horizonMs: number;
  /** The kinds a schedule may use (default all). */
  kinds?: readonly FaultKind[];
}

/** Crash-stops of at most a minority: floor((n - 1) / 2) ranks. */
export const minority = (n: number): number => Math.floor((n - 1) / 2);

const time = (maxMs: number): fc.Arbitrary<number> => fc.integer({ min: 0, max: Math.round(maxMs) });
const probability = (max: number): fc.Arbitrary<number> => fc.integer({ min: 1, max: Math.round(max * 100) }).map((p) => p / 100);

/**
 * Schedules over `n` in minN..maxN. Swarm testing: a schedule first picks a random subset of the
 * allowed fault kinds (each in with probability one half), and only those act. Ranks and sides are
 * drawn for nine ranks and fitted to n by `normalize`, so that fast-check shrinks n and the faults
 * independently; shrinking drops kinds, faults, and makes times and intensities smaller.
 */
export function scheduleArbitrary(bounds: ScheduleBounds): fc.Arbitrary<FaultSchedule> {
  const h = bounds.horizonMs;
  const lasting = fc.integer({ min: 1, max: Math.round(h + 500) });
  const rank = fc.integer({ min: 0, max: 8 });
  const crash = fc.record({
    rank,
    when: fc.oneof(
      fc.record({ atMs: time(h) }),
      fc.record({ afterSends: fc.integer({ min: 1, max: 40 }) }),
      fc.record({ afterDeliveries: fc.integer({ min: 1, max: 40 }) }),
    ),
    // A restart after up to 3 s often comes after the others have finished and left.
    restartAfterMs: fc.option(fc.oneof(time(h), time(3000)), { nil: undefined }),
  });
  return fc
    .record({
      kinds: fc.subarray([...(bounds.kinds ?? FAULT_KINDS)]),
      n: fc.integer({ min: bounds.minN, max: bounds.maxN }),
      // Not shrunk: another seed is another run, not a smaller one.
      seed: fc.noShrink(fc.integer({ min: 0, max: 0xffffffff })),
      noisyForMs: time(2 * h),
      loss: probability(0.4),
      duplicates: probability(0.3),
      reorder: fc.record({ probability: probability(0.5), maxMs: fc.integer({ min: 1, max: 20 }) }),
      delayMs: fc.integer({ min: 2, max: 30 }),
      partitions: fc.array(fc.record({ side: fc.integer({ min: 1, max: 510 }), atMs: time(h), forMs: lasting, oneWay: fc.boolean() }), {
        minLength: 1,
        maxLength: 3,
      }),
      crashes: fc.array(crash, { minLength: 1, maxLength: 3 }),
      pauses: fc.array(fc.record({ rank, atMs: time(h), forMs: lasting }), { minLength: 1, maxLength: 2 }),
    })
    .map(({ kinds, ...raw }) => {
      const on = new Set<FaultKind>(kinds);
      return normalize({
        n: raw.n,
        seed: raw.seed,
        noisyForMs: raw.noisyForMs,
        loss: on.has('loss') ? raw.loss : undefined,
        duplicates: on.has('duplicates') ? raw.duplicates : undefined,
        reorder: on.has('reordering') ? raw.reorder : undefined,
        brokenFifo: on.has('broken-fifo') || undefined,
        delayMs: on.has('delay') ? raw.delayMs : undefined,
        partitions: raw.partitions
          .filter((p) => on.has(p.oneWay ? 'one-way-partition' : 'partition'))
          .map((p) => ({ ...p, side: bitsToRanks(p.side) })),
        crashes: raw.crashes
          .filter((c) => on.has(c.restartAfterMs === undefined ? 'crash-stop' : 'crash-restart'))
          .map(({ when, ...c }) => ({ ...c, ...when })),
        pauses: on.has('pause') ? raw.pauses : [],
      });
    });
}

const bitsToRanks = (bits: number): number[] => Array.from({ length: 9 }, (_, r) => r).filter((r) => bits & (1 << r));

/**
 * Fits a schedule to its n: ranks beyond n wrap around, partitions that leave a side empty go, and
 * crash-stops beyond a minority (or of a rank already stopped) go. Idempotent; a replayed schedule
 * goes through it too.
 */
export function normalize(s: FaultSchedule): FaultSchedule {
  const n = s.n;
  const partitions = s.partitions
    .map((p) => ({ ...p, side: [...new Set(p.side.filter((r) => r < n))].sort((a, b) => a - b) }))
    .filter((p) => p.side.length > 0 && p.side.length < n);
  const stopped = new Set<number>();
  const crashes: ScheduledCrash[] = [];
  for (const c of s.crashes) {
    const rank = c.rank % n;
    if (c.restartAfterMs === undefined) {
      if (stopped.has(rank) || stopped.size >= minority(n)) continue;
      stopped.add(rank);
    }
    crashes.push({ ...c, rank });
  }
  const noisy = s.loss || s.duplicates || s.reorder;
  const out: FaultSchedule = {
    ...s,
    noisyForMs: noisy ? s.noisyForMs : 0,
    partitions,
    crashes,
    pauses: s.pauses.map((p) => ({ ...p, rank: p.rank % n })),
  };
  return JSON.parse(JSON.stringify(out)) as FaultSchedule; // without the keys of faults left out
}

/** The fault kinds a schedule uses. */
export function kindsOf(s: FaultSchedule): FaultKind[] {
  const kinds = new Set<FaultKind>();
  if (s.loss) kinds.add('loss');
  if (s.duplicates) kinds.add('duplicates');
  if (s.reorder) kinds.add('reordering');
  if (s.brokenFifo) kinds.add('broken-fifo');
  if (s.delayMs) kinds.add('delay');
  for (const p of s.partitions) kinds.add(p.oneWay ? 'one-way-partition' : 'partition');
  for (const c of s.crashes) kinds.add(c.restartAfterMs === undefined ? 'crash-stop' : 'crash-restart');
  if (s.pauses.length > 0) kinds.add('pause');
  return FAULT_KINDS.filter((k) => kinds.has(k));
}

/**
 * The global stabilization time the schedule plans: the last heal, timed restart and resume, and the
 * end of loss, duplicates and reordering. Restarts after the k-th send or delivery come at times the
 * run decides; the fuzzer reads those from the trace.
 */
export function plannedStabilizationMs(s: FaultSchedule): number {
  const noisy = s.loss || s.duplicates || s.reorder ? s.noisyForMs : 0;
  return Math.max(
    noisy,
    ...s.partitions.map((p) => p.atMs + p.forMs),
    ...s.crashes.map((c) => (c.atMs ?? 0) + (c.restartAfterMs ?? 0)),
    ...s.pauses.map((p) => p.atMs + p.forMs),
  );
}

/** The simulator's fault options for a schedule. */
export function faultOptions(s: FaultSchedule): FaultOptions {
  const all = Array.from({ length: s.n }, (_, r) => r);
  const crashes: CrashSpec[] = s.crashes.map((c) => ({ ...c }));
  return {
    drop: s.loss,
    duplicate: s.duplicates,
    reorder: s.reorder,
    breakFifo: s.brokenFifo,
    delay: s.delayMs ? { minMs: 0.1, maxMs: s.delayMs } : undefined,
    stableAfterMs: plannedStabilizationMs(s),
    partitions: s.partitions.map((p) => ({
      from: p.side,
      to: all.filter((r) => !p.side.includes(r)),
      atMs: p.atMs,
      untilMs: p.atMs + p.forMs,
      oneWay: p.oneWay,
    })),
    crashes,
    pauses: s.pauses.map((p) => ({ ...p })),
  };
}
