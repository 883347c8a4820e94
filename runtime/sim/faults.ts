import { DsError, ErrorCode } from '../errors.ts';
import type { Random } from '../random.ts';
import { msToUs, type DelaySpec } from '../transport/fault-rules.ts';

export { drawLatencyUs, latencyRangeUs, msToUs, type DelaySpec } from '../transport/fault-rules.ts';

/**
 * Fault switches of a simulation. Every one is off unless given, and every random choice comes from
 * the run's seed. Times are virtual milliseconds from the start of the run.
 */
export interface FaultOptions {
  /** Probability that the network loses a message. */
  drop?: number;
  /** Probability that the network delivers a message twice. */
  duplicate?: number;
  /** Latency of each message (default uniform 0.1..1 ms). */
  delay?: DelaySpec;
  /**
   * With `probability`, holds a message back by up to `maxMs` more, so it is overtaken by messages
   * of other senders. Messages of one sender to one receiver still arrive in order (MPI's
   * non-overtaking rule) unless `breakFifo` is set.
   */
  reorder?: { probability: number; maxMs: number };
  /** Lets a sender's messages overtake each other: breaks MPI's rule, to test code that must not need it. */
  breakFifo?: boolean;
  /** Scheduled partitions, each healed at `untilMs`. */
  partitions?: PartitionSpec[];
  /** Partitions at random times between random halves of the ranks. */
  randomPartitions?: RandomPartitions;
  /** Scheduled crashes: crash-stop, or crash-recovery with `restartAfterMs`. */
  crashes?: CrashSpec[];
  /** Crashes of distinct random ranks at random times. */
  randomCrashes?: RandomCrashes;
  /** Scheduled pauses: the rank takes no timer or message for `forMs`. */
  pauses?: PauseSpec[];
  randomPauses?: RandomPauses;
  /** Delay between a crash-stop and the other ranks being told (DS_ERR_PEER_LOST); default 0. */
  detectMs?: number;
  /**
   * From this virtual time on, `drop`, `duplicate` and `reorder` spare the messages sent: the network
   * becomes reliable (a global stabilization time). Partitions, crashes and pauses keep their own times.
   */
  stableAfterMs?: number;
}

/** Whether the faults restart crashed ranks (crash-recovery). */
export function restartsRanks(f: FaultOptions): boolean {
  return (f.crashes ?? []).some((c) => c.restartAfterMs !== undefined) || f.randomCrashes?.restartAfterMs !== undefined;
}

export interface PartitionSpec {
  from: number | number[];
  to: number | number[];
  atMs: number;
  untilMs: number;
  /** Cut only from → to; by default both directions are cut. */
  oneWay?: boolean;
}

export interface RandomPartitions {
  count: number;
  /** Each starts at a random time in [0, withinMs). */
  withinMs: number;
  /** Each lasts between minMs and maxMs. */
  minMs: number;
  maxMs: number;
  /** Probability that a partition cuts one way only (default 0). */
  oneWayProbability?: number;
}

/**
 * A crash of `rank` at `atMs`, or right after its `afterSends`-th message to another rank goes out,
 * or as its `afterDeliveries`-th incoming message arrives (before it acts on it). Without
 * `restartAfterMs` it is a crash-stop: the others are told (DS_ERR_PEER_LOST, comm.failed()). With
 * it, the rank's program starts again after that long with only its durable storage, and the
 * others are not told (they see only silence, as with a process that restarts).
 */
export interface CrashSpec {
  rank: number;
  atMs?: number;
  afterSends?: number;
  afterDeliveries?: number;
  restartAfterMs?: number;
}

export interface RandomCrashes {
  count: number;
  withinMs: number;
  /** Ranks that may crash (default all). */
  ranks?: number[];
  /** Crash-recovery after this long (a number, or uniform in a range); omitted: crash-stop. */
  restartAfterMs?: number | { minMs: number; maxMs: number };
}

export interface PauseSpec {
  rank: number;
  atMs: number;
  forMs: number;
}

export interface RandomPauses {
  count: number;
  withinMs: number;
  minMs: number;
  maxMs: number;
}

export interface PlannedPartition {
  from: number[];
  to: number[];
  atUs: number;
  untilUs: number;
  oneWay: boolean;
}

export interface PlannedCrash {
  rank: number;
  atUs?: number;
  afterSends?: number;
  afterDeliveries?: number;
  restartAfterUs?: number;
}

export interface PlannedPause {
  rank: number;
  atUs: number;
  untilUs: number;
}

/** The fault schedule of one run: the given faults plus the random ones drawn from the seed. */
export interface FaultPlan {
  partitions: PlannedPartition[];
  crashes: PlannedCrash[];
  pauses: PlannedPause[];
}

/** Checks the options (throwing DS_ERR_INVALID_ARGUMENT) and draws the random faults. */
export function planFaults(faults: FaultOptions, n: number, random: Random): FaultPlan {
  checkProbability(faults.drop, 'drop');
  checkProbability(faults.duplicate, 'duplicate');
  if (faults.delay) {
    const d = faults.delay;
    if ('meanMs' in d) {
      checkNonNegative(d.meanMs, 'delay.meanMs');
      if (d.maxMs !== undefined) checkNonNegative(d.maxMs, 'delay.maxMs');
    } else {
      checkRange(d.minMs, d.maxMs, 'delay');
    }
  }
  if (faults.reorder) {
    checkProbability(faults.reorder.probability, 'reorder.probability');
    checkNonNegative(faults.reorder.maxMs, 'reorder.maxMs');
  }
  if (faults.detectMs !== undefined) checkNonNegative(faults.detectMs, 'detectMs');
  if (faults.stableAfterMs !== undefined) checkNonNegative(faults.stableAfterMs, 'stableAfterMs');

  const plan: FaultPlan = { partitions: [], crashes: [], pauses: [] };
  for (const [i, p] of (faults.partitions ?? []).entries()) {
    const what = `partitions[${i}]`;
    const from = ranksOf(p.from, n, `${what}.from`);
    const to = ranksOf(p.to, n, `${what}.to`);
    checkRange(p.atMs, p.untilMs, what, 'atMs', 'untilMs');
    plan.partitions.push({ from, to, atUs: msToUs(p.atMs), untilUs: msToUs(p.untilMs), oneWay: p.oneWay ?? false });
  }
  for (const [i, c] of (faults.crashes ?? []).entries()) {
    const what = `crashes[${i}]`;
    checkRank(c.rank, n, `${what}.rank`);
    const triggers = [c.atMs, c.afterSends, c.afterDeliveries].filter((x) => x !== undefined).length;
    if (triggers !== 1) invalid(`${what}: give exactly one of atMs, afterSends, afterDeliveries`);
    if (c.atMs !== undefined) checkNonNegative(c.atMs, `${what}.atMs`);
    if (c.afterSends !== undefined) checkCount(c.afterSends, `${what}.afterSends`);
    if (c.afterDeliveries !== undefined) checkCount(c.afterDeliveries, `${what}.afterDeliveries`);
    if (c.restartAfterMs !== undefined) checkNonNegative(c.restartAfterMs, `${what}.restartAfterMs`);
    plan.crashes.push({
      rank: c.rank,
      atUs: c.atMs === undefined ? undefined : msToUs(c.atMs),
      afterSends: c.afterSends,
      afterDeliveries: c.afterDeliveries,
      restartAfterUs: c.restartAfterMs === undefined ? undefined : msToUs(c.restartAfterMs),
    });
  }
  for (const [i, p] of (faults.pauses ?? []).entries()) {
    checkRank(p.rank, n, `pauses[${i}].rank`);
    checkNonNegative(p.atMs, `pauses[${i}].atMs`);
    checkNonNegative(p.forMs, `pauses[${i}].forMs`);
    plan.pauses.push({ rank: p.rank, atUs: msToUs(p.atMs), untilUs: msToUs(p.atMs + p.forMs) });
  }

  const uniformUs = (minMs: number, maxMs: number): number => {
    const lo = msToUs(minMs);
    return lo + Math.floor(random() * (msToUs(maxMs) - lo + 1));
  };
  const rp = faults.randomPartitions;
  if (rp && n >= 2) {
    checkCount(rp.count, 'randomPartitions.count', true);
    checkNonNegative(rp.withinMs, 'randomPartitions.withinMs');
    checkRange(rp.minMs, rp.maxMs, 'randomPartitions');
    checkProbability(rp.oneWayProbability, 'randomPartitions.oneWayProbability');
    for (let i = 0; i < rp.count; i++) {
      const atUs = uniformUs(0, rp.withinMs);
      const untilUs = atUs + uniformUs(rp.minMs, rp.maxMs);
      // A random proper, non-empty subset against the rest.
      let side: boolean[];
      do side = Array.from({ length: n }, () => random() < 0.5);
      while (side.every((s) => s) || side.every((s) => !s));
      const from = side.flatMap((s, r) => (s ? [r] : []));
      const to = side.flatMap((s, r) => (s ? [] : [r]));
      const oneWay = random() < (rp.oneWayProbability ?? 0);
      plan.partitions.push({ from, to, atUs, untilUs, oneWay });
    }
  }
  const rc = faults.randomCrashes;
  if (rc) {
    const pool = rc.ranks ? ranksOf(rc.ranks, n, 'randomCrashes.ranks') : Array.from({ length: n }, (_, r) => r);
    checkCount(rc.count, 'randomCrashes.count', true);
    if (rc.count > pool.length) invalid(`randomCrashes.count is ${rc.count}, but only ${pool.length} ranks may crash`);
    checkNonNegative(rc.withinMs, 'randomCrashes.withinMs');
    for (let i = 0; i < rc.count; i++) {
      const rank = pool.splice(Math.floor(random() * pool.length), 1)[0];
      const atUs = uniformUs(0, rc.withinMs);
      const r = rc.restartAfterMs;
      const restartAfterUs = r === undefined ? undefined : typeof r === 'number' ? msToUs(r) : uniformUs(r.minMs, r.maxMs);
      plan.crashes.push({ rank, atUs, restartAfterUs });
    }
  }
  const rps = faults.randomPauses;
  if (rps) {
    checkCount(rps.count, 'randomPauses.count', true);
    checkNonNegative(rps.withinMs, 'randomPauses.withinMs');
    checkRange(rps.minMs, rps.maxMs, 'randomPauses');
    for (let i = 0; i < rps.count; i++) {
      const rank = Math.floor(random() * n);
      const atUs = uniformUs(0, rps.withinMs);
      plan.pauses.push({ rank, atUs, untilUs: atUs + uniformUs(rps.minMs, rps.maxMs) });
    }
  }
  return plan;
}

function ranksOf(spec: number | number[], n: number, what: string): number[] {
  const list = Array.isArray(spec) ? spec : [spec];
  if (list.length === 0) invalid(`${what}: no ranks given`);
  for (const r of list) checkRank(r, n, what);
  return [...list];
}

function checkRank(r: number, n: number, what: string): void {
  if (!Number.isInteger(r) || r < 0 || r >= n) invalid(`${what}: rank ${String(r)} is not valid; n is ${n}`);
}

function checkProbability(p: number | undefined, what: string): void {
  if (p !== undefined && !(p >= 0 && p <= 1)) invalid(`${what}: a probability in [0, 1], got ${String(p)}`);
}

function checkNonNegative(x: number, what: string): void {
  if (!(x >= 0) || x === Infinity) invalid(`${what}: a finite number >= 0, got ${String(x)}`);
}

function checkCount(x: number, what: string, zeroOk = false): void {
  if (!Number.isInteger(x) || x < (zeroOk ? 0 : 1)) invalid(`${what}: an integer >= ${zeroOk ? 0 : 1}, got ${String(x)}`);
}

function checkRange(lo: number, hi: number, what: string, loName = 'minMs', hiName = 'maxMs'): void {
  checkNonNegative(lo, `${what}.${loName}`);
  checkNonNegative(hi, `${what}.${hiName}`);
  if (hi < lo) invalid(`${what}: ${hiName} (${hi}) is below ${loName} (${lo})`);
}

function invalid(message: string): never {
  throw new DsError(ErrorCode.InvalidArgument, `simulate faults: ${message}`);
}
