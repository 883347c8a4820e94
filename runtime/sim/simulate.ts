import { writeFileSync } from 'node:fs';
import type { Communicator } from '../communicator.ts';
import type { ErrorCode } from '../errors.ts';
import { seededRandom } from '../random.ts';
import type { DurableStorage } from '../storage.ts';
import { formatTrace, type TraceEvent } from '../protocol/trace-event.ts';
import { summarizeTrace, type TraceSummary } from '../protocol/trace-summary.ts';
import { drive } from './driver.ts';
import { eventRank } from './event-queue.ts';
import { planFaults } from './faults.ts';
import { Scheduler } from './scheduler.ts';
import { SimulationError } from './sim-error.ts';
import { simSettings, type SimulateOptions } from './sim-options.ts';
import { SimRanks } from './sim-ranks.ts';
import { TraceRecorder } from './trace.ts';

export { SimulationError } from './sim-error.ts';
export type { SimulateOptions } from './sim-options.ts';

export interface SimulationResult<T> {
  /** Each rank's return value (of its last incarnation); undefined for a rank that crashed for good first. */
  results: Array<T | undefined>;
  /** Errors thrown by ranks' programs (with rankErrors: 'record'), by rank. */
  errors: unknown[];
  seed: number;
  n: number;
  /** Virtual time at the end, in milliseconds. */
  timeMs: number;
  /** Events run. */
  steps: number;
  trace: TraceEvent[];
  /** The trace as JSONL text: equal for equal seeds, byte for byte. */
  jsonl(): string;
  summary: TraceSummary;
  /** Ranks that crash-stopped. */
  crashed: number[];
  /** Number of restarts of each rank. */
  restarts: number[];
  /** A rank's durable storage as the run left it. */
  storage(rank: number): DurableStorage;
  /** Non-fatal reports of ranks (bad frames...). */
  reports: Array<{ rank: number; message: string }>;
}

/** PRNG stream of the fault plan, apart from the ranks' streams 0..n-1. */
const FAULT_STREAM = 0x7ffffff1;

/**
 * Runs `n` ranks of `main` (as runLocal does) on a simulated network in virtual time. The seed alone
 * decides the run: the same seed gives the same trace, byte for byte. Time jumps to the next timer or
 * delivery whenever the ranks have nothing left to do, so long timeouts cost no real time. Rejects
 * with a SimulationError on deadlock, on the time limit, or when a rank throws.
 */
export async function simulate<T>(options: SimulateOptions, main: (comm: Communicator) => Promise<T> | T): Promise<SimulationResult<T>> {
  const settings = simSettings(options);
  const { n, seed } = settings;
  const plan = planFaults(settings.faults, n, seededRandom(seed, FAULT_STREAM));
  const scheduler = new Scheduler(settings.chooser, settings.rankClocks ? eventRank : undefined);
  const trace = new TraceRecorder();
  trace.record({ t: 0, ev: 'run', seed });

  let failure: SimulationError | undefined;
  const fail = (code: ErrorCode, what: string, detail: string, rank?: number, cause?: unknown): void => {
    failure ??= new SimulationError(code, `simulation with seed ${seed}: ${what} at ${scheduler.nowMs} ms virtual time: ${detail}`, {
      seed,
      timeMs: scheduler.nowMs,
      rank,
      waiting: ranks.describe(),
      trace: trace.events,
      cause,
    });
  };
  const triggers = plan.crashes.filter((c) => c.atUs === undefined);
  const ranks = new SimRanks(settings, triggers, main, scheduler, trace, fail);

  // The fault plan's timed events.
  const network = ranks.network;
  for (const p of plan.partitions) {
    scheduler.at(p.atUs, () => network.startPartition(p), undefined, ranks.faultId(-1));
    scheduler.at(p.untilUs, () => network.healPartition(p), undefined, ranks.faultId(-1));
  }
  for (const c of plan.crashes) {
    if (c.atUs !== undefined)
      scheduler.at(c.atUs, () => ranks.crash(c.rank, c.restartAfterUs, 'scheduled'), undefined, ranks.faultId(c.rank));
  }
  for (const p of plan.pauses) {
    scheduler.at(p.atUs, () => ranks.pause(p.rank, p.untilUs), undefined, ranks.faultId(p.rank));
    scheduler.at(p.untilUs, () => ranks.resume(p.rank), undefined, ranks.faultId(p.rank));
  }

  settings.injectFaults?.ready({
    running: (rank) => ranks.running(rank),
    crash: (rank, restartAfterUs) => ranks.crash(rank, restartAfterUs, 'chosen'),
    cut: (from, to) => network.blocked(from, to),
    partition: (from, to, oneWay, forUs) => {
      const p = { from, to, oneWay, atUs: scheduler.nowUs, untilUs: scheduler.nowUs + forUs };
      network.startPartition(p);
      if (forUs !== Infinity) scheduler.at(p.untilUs, () => network.healPartition(p), undefined, ranks.faultId(-1));
    },
    paused: (rank) => scheduler.isPaused(rank),
    pause: (rank, forUs) => {
      const untilUs = scheduler.nowUs + forUs;
      ranks.pause(rank, untilUs);
      scheduler.at(untilUs, () => ranks.resume(rank), undefined, ranks.faultId(rank));
    },
  });
  ranks.startAll();
  await drive(scheduler, { finished: () => ranks.finished, failed: () => failure !== undefined, fail }, settings);
  if (settings.trace) writeFileSync(settings.trace, formatTrace(trace.events));
  if (failure) throw failure;

  return {
    results: ranks.results<T>(),
    errors: ranks.errors,
    seed,
    n,
    timeMs: scheduler.nowMs,
    steps: scheduler.steps,
    trace: trace.events,
    jsonl: () => trace.jsonl(),
    summary: summarizeTrace(trace.events, ranks.size),
    crashed: ranks.crashed(),
    restarts: ranks.restarts(),
    storage: (rank) => ranks.storage.of(rank),
    reports: ranks.reports,
  };
}
