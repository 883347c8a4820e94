/**
 * The faults the explorer may choose at a step besides the enabled events (ExploreOptions `crashes`,
 * `pauses` and `partitions`), and how one is injected: as a step of its own, an event the chooser hands the
 * scheduler at the current time.
 */
import { DsError, ErrorCode } from '../../errors.ts';
import type { SimEvent } from '../event-queue.ts';
import { msToUs } from '../faults.ts';
import type { FaultInjector } from '../sim-options.ts';
import type { FaultChoice, Schedule } from './schedule.ts';

/** What the fault choices depend on among the explorer's options. */
export interface FaultChoiceOptions {
  n: number;
  crashes?: number;
  restartAfterMs?: number;
  pauses?: number;
  pauseMs?: number;
  partitions?: number;
  partitionMs?: number;
  partitionShape?: 'isolate' | 'one-way';
}

/** How long a partition the explorer chooses lasts by default. */
export const PARTITION_MS = 100;

/** How long a pause the explorer chooses lasts by default. */
export const PAUSE_MS = 100;

/** Refuses bad fault options (DS_ERR_INVALID_ARGUMENT), naming the option and the value. */
export function checkFaultOptions(o: FaultChoiceOptions): void {
  for (const [name, value] of [
    ['crashes', o.crashes],
    ['pauses', o.pauses],
    ['partitions', o.partitions],
  ] as const)
    if (value !== undefined && !(Number.isInteger(value) && value >= 0)) invalid(`${name} must be an integer >= 0, got ${String(value)}`);
  const r = o.restartAfterMs;
  if (r !== undefined && !(r >= 0 && Number.isFinite(r))) invalid(`restartAfterMs must be a finite number >= 0, got ${String(r)}`);
  const p = o.partitionMs;
  if (p !== undefined && !(p > 0)) invalid(`partitionMs must be a number > 0 (Infinity: never heals), got ${String(p)}`);
  const s = o.pauseMs;
  if (s !== undefined && !(s > 0 && Number.isFinite(s))) invalid(`pauseMs must be a finite number > 0, got ${String(s)}`);
  const shape = o.partitionShape;
  if (shape !== undefined && shape !== 'isolate' && shape !== 'one-way')
    invalid(`partitionShape must be isolate or one-way, got ${String(shape as unknown)}`);
}

/** Refuses a schedule whose faults name a rank past the run's `n` ranks, or a link from a rank to itself. */
export function checkScheduleFaults(schedule: Schedule, n: number): void {
  for (const [step, { fault }] of schedule) {
    if (!fault) continue;
    if (fault.to === fault.rank) invalid(`schedule: step ${step} cuts the link from rank ${fault.rank} to itself`);
    const past = [fault.rank, fault.to ?? 0].find((r) => r >= n);
    if (past !== undefined) invalid(`schedule: step ${step} names rank ${past}, past the ${n} ranks of the run (0..${n - 1})`);
  }
}

/** The options with budgets raised to the faults a schedule names, so that it replays with them. */
export function withBudgetFor<O extends FaultChoiceOptions>(options: O, schedule: Schedule): O {
  const count = (kind: FaultChoice['kind']): number => [...schedule.values()].filter((c) => c.fault?.kind === kind).length;
  return {
    ...options,
    crashes: Math.max(options.crashes ?? 0, count('crash')),
    pauses: Math.max(options.pauses ?? 0, count('pause')),
    partitions: Math.max(options.partitions ?? 0, count('partition')),
  };
}

/**
 * The faults offered at a step, in a fixed order (crashes by rank, then partitions by rank and
 * link, then pauses by rank): a crash of each rank that runs its program, while crashes are left; a
 * partition of each shape not already in force, while partitions are left; a pause of each rank that
 * runs its program and is not paused, while pauses are left.
 */
export function faultsOffered(
  o: FaultChoiceOptions,
  injector: FaultInjector,
  crashes: boolean,
  partitions: boolean,
  pauses = false,
): FaultChoice[] {
  const offered: FaultChoice[] = [];
  const ranks = Array.from({ length: o.n }, (_, r) => r);
  if (crashes) for (const rank of ranks) if (injector.running(rank)) offered.push({ kind: 'crash', rank });
  if (partitions && o.n >= 2) {
    for (const rank of ranks) {
      const others = ranks.filter((r) => r !== rank);
      if ((o.partitionShape ?? 'isolate') === 'isolate') {
        if (!others.every((r) => injector.cut(rank, r) && injector.cut(r, rank))) offered.push({ kind: 'partition', rank });
      } else {
        for (const to of others) if (!injector.cut(rank, to)) offered.push({ kind: 'partition', rank, to });
      }
    }
  }
  if (pauses) for (const rank of ranks) if (injector.running(rank) && !injector.paused(rank)) offered.push({ kind: 'pause', rank });
  return offered;
}

/** The event that injects `fault` now: the scheduler runs it as the step's event. */
export function faultStep(fault: FaultChoice, o: FaultChoiceOptions, injector: FaultInjector, nowUs: number): SimEvent {
  const run =
    fault.kind === 'crash'
      ? () => injector.crash(fault.rank, o.restartAfterMs === undefined ? undefined : msToUs(o.restartAfterMs))
      : fault.kind === 'pause'
        ? () => injector.pause(fault.rank, msToUs(o.pauseMs ?? PAUSE_MS))
        : () => {
            const others = Array.from({ length: o.n }, (_, r) => r).filter((r) => r !== fault.rank);
            const forMs = o.partitionMs ?? PARTITION_MS;
            const forUs = forMs === Infinity ? Infinity : msToUs(forMs);
            if (fault.to === undefined) injector.partition([fault.rank], others, false, forUs);
            else injector.partition([fault.rank], [fault.to], true, forUs);
          };
  return { timeUs: nowUs, seq: -1, id: { kind: 'fault', rank: -1, k: -1 }, run };
}

function invalid(message: string): never {
  throw new DsError(ErrorCode.InvalidArgument, `explore: ${message}`);
}
