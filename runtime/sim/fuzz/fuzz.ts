/**
 * The swarm fuzzer: runs an algorithm in the simulator under random fault schedules (schedule.ts),
 * checks its safety invariants over everything the run observed, and its liveness once the faults
 * stop: from the global stabilization time on (the last heal, restart, resume or crash, and the end
 * of loss), every live rank must finish within the bound its documentation states. A failure inside
 * the algorithm's fault model is shrunk by fast-check to a minimal schedule and n, printed as a
 * replay command. Runs with faults outside the model are run and counted too, but never fail.
 *
 * Generic: it knows algorithms only through the FuzzTarget interface.
 */
import fc from 'fast-check';
import type { Communicator } from '../../communicator.ts';
import { isDsError, ErrorCode } from '../../errors.ts';
import { simulate, SimulationError, type SimulationResult } from '../simulate.ts';
import {
  faultOptions,
  FAULT_KINDS,
  kindsOf,
  normalize,
  plannedStabilizationMs,
  scheduleArbitrary,
  type FaultKind,
  type FaultSchedule,
} from './schedule.ts';

/**
 * What a check throws when a rank finished without its outcome (it gave up, or reports that it could
 * not decide): a liveness failure, not a safety violation.
 */
export class LivenessError extends Error {
  override name = 'LivenessError';
}

/** One run of a target: the program every rank runs, and the safety check over what it observed. */
export interface FuzzRun<T> {
  main(comm: Communicator): Promise<T> | T;
  /**
   * Throws on a broken safety invariant. Called after every run, finished or not (`result` is
   * undefined when the run failed: then only what the observers recorded is there to check).
   */
  check(result: SimulationResult<T> | undefined): void;
  /**
   * Throws on a broken safety invariant over what was observed so far: the explorer calls it after
   * every event (dsmpi/explore's `always`), so a violation shows at the step, even in an execution
   * it cuts short. Optional; the fuzzer relies on `check`, which must cover the same properties.
   */
  always?(): void;
}

export interface FuzzTarget<T = unknown> {
  /** The name the command line uses (`npm run fuzz -- <name>`). */
  name: string;
  /** Consensus and commit ports get the larger default budget. */
  family: 'consensus' | 'commit' | 'other';
  minN: number;
  maxN: number;
  /** About how long a run takes without faults: faults are scheduled within it. */
  horizonMs: number;
  /** The fault kinds the algorithm tolerates (its documented fault model). */
  tolerates: readonly FaultKind[];
  /** Why a schedule is outside the model beyond its kinds (e.g. the coordinator crashes), if it is. */
  outOfModel?(schedule: FaultSchedule): string | undefined;
  /** Every live rank finishes within this long after the stabilization time (the documented bound). */
  livenessMs(n: number): number;
  /** A fresh run at n ranks: its observers start empty. */
  setup(n: number): FuzzRun<T>;
}

export type Verdict = 'ok' | 'safety' | 'liveness';

export interface CaseOutcome {
  verdict: Verdict;
  /** What went wrong (empty when ok). */
  message: string;
  /** Inside the target's fault model? Outside it, a failure is reported, not failed. */
  inModel: boolean;
  /** Why it is outside the model. */
  outside: string;
  kinds: FaultKind[];
  stabilizedMs: number;
  /** Virtual time from stabilization to the last rank's end (0 if all ended before). */
  afterStabilizationMs: number;
}

/** Lifecycle events that end a fault: the stabilization time is the last of them. */
const FAULT_EVENTS = new Set(['heal', 'restart', 'resume', 'crash', 'detect']);

/** Runs one schedule against a target. Never throws for the algorithm's failures: they are the verdict. */
export async function runCase<T>(target: FuzzTarget<T>, raw: FaultSchedule): Promise<CaseOutcome> {
  const schedule = normalize(raw);
  const kinds = kindsOf(schedule);
  const foreign = kinds.filter((k) => !target.tolerates.includes(k));
  const outside = [foreign.length ? `${foreign.join(', ')} outside the model` : '', target.outOfModel?.(schedule) ?? '']
    .filter(Boolean)
    .join('; ');
  const planned = plannedStabilizationMs(schedule);
  const boundMs = target.livenessMs(schedule.n);
  const lateRestartMs = Math.max(0, ...schedule.crashes.map((c) => (c.atMs === undefined ? (c.restartAfterMs ?? 0) : 0)));
  const run = target.setup(schedule.n);
  const timeLimitMs = planned + lateRestartMs + boundMs + 1;
  let result: SimulationResult<T> | undefined;
  let failure: unknown;
  try {
    result = await simulate(
      {
        n: schedule.n,
        seed: schedule.seed,
        faults: faultOptions(schedule),
        timeLimitMs,
        maxSteps: 300_000,
      },
      (comm) => run.main(comm),
    );
  } catch (err) {
    failure = err;
  }
  const trace = result?.trace ?? (failure instanceof SimulationError ? failure.trace : []);
  let stabilizedMs = planned;
  for (const e of trace) if (FAULT_EVENTS.has(e.ev) && e.t > stabilizedMs) stabilizedMs = e.t;
  // A run that failed ended when it failed, except one that ran out of time (it ends at the limit
  // or later) or deadlocked (it never ends).
  const code = isDsError(failure) ? failure.code : undefined;
  const failedAtMs =
    code === ErrorCode.TimeLimit ? timeLimitMs : code === ErrorCode.Deadlock ? Infinity : (failure as SimulationError)?.timeMs;
  const endMs = result?.timeMs ?? failedAtMs ?? Infinity;
  const afterStabilizationMs = Math.max(0, endMs - stabilizedMs);
  const base = { inModel: outside === '', outside, kinds, stabilizedMs, afterStabilizationMs };

  try {
    run.check(result);
  } catch (err) {
    return { ...base, verdict: err instanceof LivenessError ? 'liveness' : 'safety', message: messageOf(err) };
  }
  if (failure !== undefined) {
    if (code !== ErrorCode.TimeLimit && code !== ErrorCode.Deadlock) return { ...base, verdict: 'safety', message: messageOf(failure) };
    const late = `not finished ${Number.isFinite(endMs) ? `${Math.round(afterStabilizationMs)} ms after` : 'ever after'} stabilization at ${stabilizedMs} ms (the bound is ${boundMs} ms): `;
    return { ...base, verdict: 'liveness', message: late + messageOf(failure) };
  }
  if (afterStabilizationMs > boundMs) {
    return {
      ...base,
      verdict: 'liveness',
      message: `the last rank finished ${afterStabilizationMs} ms after stabilization (${stabilizedMs} ms), over the bound of ${boundMs} ms`,
    };
  }
  return { ...base, verdict: 'ok', message: '' };
}

function messageOf(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n').slice(0, 6).join('\n');
}

export interface FuzzOptions {
  /** Fuzz seeds to run: first..first+seeds-1 (default 100 from 1). Each draws one schedule. */
  seeds?: number;
  first?: number;
  /** Restrict n (within the target's own range). */
  minN?: number;
  maxN?: number;
  /** Shrink in-model failures (default true); at most this many runs per shrink (default 50). */
  shrink?: boolean;
  shrinkRuns?: number;
  /** Called after each seed. */
  onSeed?(seed: number, outcome: CaseOutcome): void;
}

export interface FuzzFailure {
  fuzzSeed: number;
  verdict: Verdict;
  message: string;
  /** The minimal schedule found (the drawn one when not shrunk). */
  schedule: FaultSchedule;
  inModel: boolean;
  outside: string;
}

export interface Tally {
  runs: number;
  safety: number;
  liveness: number;
  /** Virtual ms from stabilization to the end, of the runs that passed, sorted. */
  times: number[];
  kinds: FaultKind[];
}

export interface FuzzReport {
  target: string;
  first: number;
  seeds: number;
  minN: number;
  maxN: number;
  inModel: Tally;
  outOfModel: Tally;
  /** In-model failures, shrunk; out-of-model ones as drawn (the first few). */
  failures: FuzzFailure[];
}

const emptyTally = (): Tally => ({ runs: 0, safety: 0, liveness: 0, times: [], kinds: [] });

/** At most this many out-of-model failures are kept as examples. */
export const OUT_OF_MODEL_EXAMPLES = 3;

/**
 * Fuzzes `target` over `options.seeds` seeds. Fuzz seed k draws the same schedule in any process
 * (fast-check seeded with k), so a seed replays; a failure inside the model is shrunk.
 */
export async function fuzz<T>(target: FuzzTarget<T>, options: FuzzOptions = {}): Promise<FuzzReport> {
  const minN = Math.max(target.minN, options.minN ?? target.minN);
  const maxN = Math.min(target.maxN, options.maxN ?? target.maxN);
  if (minN > maxN)
    throw new RangeError(`fuzz ${target.name}: no n in ${options.minN}..${options.maxN} (it runs at n = ${target.minN}..${target.maxN})`);
  const seeds = options.seeds ?? 100;
  const first = options.first ?? 1;
  // Three runs in four draw only faults of the model; the fourth may draw any.
  const bounds = { minN, maxN, horizonMs: target.horizonMs };
  const arbitrary = fc.oneof(
    { weight: 3, arbitrary: scheduleArbitrary({ ...bounds, kinds: target.tolerates }) },
    { weight: 1, arbitrary: scheduleArbitrary(bounds) },
  );
  const report: FuzzReport = {
    target: target.name,
    first,
    seeds,
    minN,
    maxN,
    inModel: emptyTally(),
    outOfModel: emptyTally(),
    failures: [],
  };
  const kinds = { in: new Set<FaultKind>(), out: new Set<FaultKind>() };
  for (let k = first; k < first + seeds; k++) {
    const { outcome, failure } = await fuzzSeed(target, arbitrary, k, options);
    const tally = outcome.inModel ? report.inModel : report.outOfModel;
    tally.runs++;
    if (outcome.verdict === 'safety') tally.safety++;
    if (outcome.verdict === 'liveness') tally.liveness++;
    if (outcome.verdict === 'ok') tally.times.push(outcome.afterStabilizationMs);
    for (const kind of outcome.kinds) (outcome.inModel ? kinds.in : kinds.out).add(kind);
    const examples = report.failures.filter((f) => !f.inModel).length;
    if (failure && (failure.inModel || examples < OUT_OF_MODEL_EXAMPLES)) report.failures.push(failure);
    options.onSeed?.(k, outcome);
  }
  for (const [tally, set] of [
    [report.inModel, kinds.in],
    [report.outOfModel, kinds.out],
  ] as const) {
    tally.times.sort((a, b) => a - b);
    tally.kinds = FAULT_KINDS.filter((k) => set.has(k));
  }
  return report;
}

/** One fuzz seed: draws its schedule, runs it, and shrinks it if it fails inside the model. */
async function fuzzSeed<T>(
  target: FuzzTarget<T>,
  arbitrary: fc.Arbitrary<FaultSchedule>,
  fuzzSeed: number,
  options: FuzzOptions,
): Promise<{ outcome: CaseOutcome; failure?: FuzzFailure }> {
  const shrink = options.shrink ?? true;
  const budget = options.shrinkRuns ?? 50;
  let drawn: { schedule: FaultSchedule; outcome: CaseOutcome } | undefined;
  let smallest: { schedule: FaultSchedule; outcome: CaseOutcome } | undefined;
  let calls = 0;
  const property = fc.asyncProperty(arbitrary, async (schedule) => {
    // Past the budget every candidate "passes", so shrinking stops at the smallest failure so far.
    if (calls++ > budget) return true;
    const outcome = await runCase(target, schedule);
    drawn ??= { schedule, outcome };
    // Out of the model a failure is only reported; shrinking must keep the failure the same kind.
    const fails = outcome.verdict !== 'ok' && outcome.inModel && outcome.verdict === drawn.outcome.verdict;
    if (fails) smallest = { schedule, outcome };
    return !fails;
  });
  await fc.check(property, { seed: fuzzSeed, numRuns: 1, endOnFailure: !shrink });
  const { outcome } = drawn!;
  if (outcome.verdict === 'ok') return { outcome };
  const found = smallest ?? drawn!;
  return {
    outcome,
    failure: {
      fuzzSeed,
      verdict: found.outcome.verdict,
      message: found.outcome.message,
      schedule: normalize(found.schedule),
      inModel: outcome.inModel,
      outside: outcome.outside,
    },
  };
}

/** The one-line command that replays a schedule against a target. */
export function replayCommand(target: string, schedule: FaultSchedule): string {
  return `npm run fuzz -- ${target} --replay '${JSON.stringify(normalize(schedule))}'`;
}
