/**
 * Systematic exploration: runs the same `main(comm)` that dsrun launches and simulate() runs, but
 * chooses each next event itself (strategies.ts) instead of by the seed, re-executing the program
 * once per schedule. Properties are checked after every event (`always`) and at the end (`check`);
 * a failing schedule is cut down to a 1-minimal list of deviations and printed as one line that
 * replays (`DSMPI_SCHEDULE=…`).
 */
import { writeFileSync } from 'node:fs';
import type { Communicator } from '../../communicator.ts';
import { DsError, ErrorCode } from '../../errors.ts';
import { formatTrace } from '../../protocol/trace-event.ts';
import type { FaultOptions } from '../faults.ts';
import type { EventChooser } from '../scheduler.ts';
import { simulate, type SimulationResult } from '../simulate.ts';
import type { FaultInjector } from '../sim-options.ts';
import { eventLabel, type SimEvent } from '../event-queue.ts';
import { enabledEvents, onTime, type TimingModel } from './enabled.ts';
import { deviations, faultText, formatSchedule, parseSchedule, type Choice, type FaultChoice, type Schedule } from './schedule.ts';
import { Dpor } from './dpor.ts';
import { checkRoundOptions, type RoundCost } from './rounds.ts';
import {
  checkFaultOptions,
  checkScheduleFaults,
  faultsOffered,
  type FaultChoiceOptions,
  faultStep,
  withBudgetFor,
} from './fault-choices.ts';
import {
  DelayBounding,
  followSchedule,
  Pct,
  PctCp,
  type PctThreads,
  RandomSeeds,
  RandomWalk,
  type ExecutionPlan,
  type FaultBudget,
  type StepRecord,
  type Strategy,
} from './strategies.ts';

/** One execution's program and properties, fresh each time (observers start empty). */
export interface ExploreRun<T> {
  main(comm: Communicator): Promise<T> | T;
  /** Throws if a property that must hold after every event does not. */
  always?(): void;
  /** Throws if the run's outcome is wrong (`result` is undefined when the run itself failed). */
  check?(result: SimulationResult<T> | undefined): void;
  /** Properties that some execution should reach (coverage): counted per execution that reached each. */
  sometimes?: Record<string, () => boolean>;
}

/** What a partition the explorer chooses cuts: one rank off from the others, or one link one way. */
export type PartitionShape = NonNullable<FaultChoiceOptions['partitionShape']>;

export type StrategyName = 'seeds' | 'random' | 'pct' | 'pctcp' | 'delay-bounding' | 'dfs' | 'dpor';

export interface ExploreOptions {
  n: number;
  strategy: StrategyName;
  /** The simulator's seed: latencies and every rank's comm.random() (default 1). */
  seed?: number;
  timing?: TimingModel;
  /**
   * Bounded timing: a timer may fire up to this many milliseconds late (default 0: on time), so
   * the search orders timers of different ranks due within it of each other, and timeouts against
   * messages they would have beaten; races that otherwise only the seed's draws decide.
   */
  timerSlackMs?: number;
  /** PCT's and PCTCP's depth d (default 3). */
  depth?: number;
  /** What PCT gives priorities to (default `link`): see `PctThreads`. */
  pctThreads?: PctThreads;
  /** Delay bounding: at most this many delays (default 2); depth-first search: default unbounded. */
  delays?: number;
  /**
   * Delay bounding and depth-first search: partial-order reduction by sleep sets (default false),
   * skipping schedules that only reorder events of different ranks relative to one already run.
   */
  sleepSets?: boolean;
  /**
   * DPOR: in rounds of 0, 1, … deviations (default true), each round exploring only the backtrack
   * choices whose schedule deviates at most that much from the simulator's order, so a bug needing
   * few deviations is found before the depth-first search has exhausted the ends of the executions;
   * the last round is unbounded and its end a proof. `false`: one unbounded depth-first search.
   */
  deepening?: boolean;
  /**
   * Delay bounding's and DPOR's rounds: what a delay costs (default `delays`: taking the i-th enabled
   * event costs i; `deviations`: each choice other than the simulator's next costs 1, and delay
   * bounding's `delays` then bounds how many). Refused for the other strategies.
   */
  roundCost?: RoundCost;
  /**
   * Delay bounding's and DPOR's rounds: each round in passes, taking its deviations first only at the
   * first `shallowFirst` steps of an execution, then at twice as many, … until every step (default:
   * every step at once). A depth-first round reorders the last steps first; this finds an early
   * deviation (a fault at the start) without first running every later one. Refused for the other
   * strategies.
   */
  shallowFirst?: number;
  /** At most this many messages the explorer chooses to lose per execution (default 0; not with seeds). */
  drops?: number;
  /**
   * At most this many crashes the explorer chooses per execution (default 0; not with seeds): at any
   * step, a crash of a rank that runs its program may be taken instead of an event (a step of its own,
   * `c2` in a schedule). Crash-stop unless `restartAfterMs`.
   */
  crashes?: number;
  /**
   * A crashed rank starts its program again this long after (crash-recovery, with only its durable
   * storage; the others are not told); omitted: crash-stop (the others are told, DS_ERR_PEER_LOST).
   */
  restartAfterMs?: number;
  /**
   * At most this many partitions the explorer chooses per execution (default 0; not with seeds): at
   * any step, a partition of the shape `partitionShape` may be taken instead of an event (a step of
   * its own, `p2` or `p0>1` in a schedule); it heals `partitionMs` later.
   */
  partitions?: number;
  /** How long a chosen partition lasts (default 100 ms; Infinity: it never heals). */
  partitionMs?: number;
  /**
   * At most this many pauses the explorer chooses per execution (default 0; not with seeds): at any
   * step, a pause of a rank that runs its program and is not paused may be taken instead of an event
   * (a step of its own, `s2` in a schedule): the rank takes no message or timer until it resumes,
   * `pauseMs` later (a fault event of its own).
   */
  pauses?: number;
  /** How long a chosen pause lasts (default 100 ms). */
  pauseMs?: number;
  /**
   * What a chosen partition cuts: `isolate` (default), one rank from every other, both ways (n
   * choices, `p2`); `one-way`, one link in one direction (n·(n−1) choices, `p0>1`: 0's messages to
   * 1 are lost, 1's to 0 arrive).
   */
  partitionShape?: PartitionShape;
  /** At most this many executions (default 1000; unbounded for delay bounding, dfs and dpor). */
  executions?: number;
  /** Faults the simulator draws from the seed, on top of the explorer's choices. */
  faults?: FaultOptions;
  timeLimitMs?: number;
  /**
   * At most this many events per execution: one that reaches it is cut, counted in the report's
   * `cut` as no failure found (its `always` invariants held at every step; its `check` does not run,
   * since the run did not end). Default: 20,000 under async timing; unbounded under bounded timing,
   * where the simulator's own limit (two million events) is a liveness failure.
   */
  maxSteps?: number;
  /**
   * Async timing: how many times per execution each rank's timer may fire ahead of a pending event
   * due before it (default 2). Past that budget the rank's timers wait for what is due before them,
   * as under bounded timing, so a program that retries on timers cannot starve its messages forever.
   */
  timerBudget?: number;
  /** Whether a deadlock or a run past the time limit is a failure (default: with bounded timing). */
  liveness?: boolean;
  /**
   * Each rank keeps its own clock and each link draws its latencies from its own stream (default
   * false: one clock, one stream, so round 0 is the seeded run byte for byte). With one clock, an
   * event taken ahead of an earlier one of another rank moves that one later, a dependence DPOR's
   * relation (events of one rank) does not see; with rank clocks, events of different ranks commute
   * exactly and DPOR's reduction loses nothing (docs/exploration.md, "What the dependence ignores").
   */
  rankClocks?: boolean;
  /** Cut a counterexample down to a 1-minimal schedule (default true). */
  minimize?: boolean;
  /** Run only this schedule (default: DSMPI_SCHEDULE from the environment, if set). */
  schedule?: string;
  /** Write the trace of the counterexample, or of the one schedule run, here (JSONL, for `dsrun view`). */
  trace?: string;
}

export interface Counterexample {
  /** The deviations from the simulator's own order: DSMPI_SCHEDULE's value. */
  schedule: string;
  /** The simulator's seed it runs with (the explorer's, unless the strategy draws seeds). */
  seed: number;
  code: string;
  message: string;
  /** Executions until the first failure, and the seconds they took (before minimizing). */
  foundAfter: number;
  secondsToFind: number;
  /** Events in the counterexample's run. */
  steps: number;
  /** Whether replaying it twice gave different enabled sets: nondeterminism the simulator does not control. */
  nondeterministic: boolean;
}

export interface ExploreReport {
  strategy: string;
  executions: number;
  /** Executions that only repeated an earlier round's schedule (delay bounding). */
  revisits: number;
  /**
   * Delay bounding: executions in each round of 0, 1, … deviations, the last the round it stopped in
   * (where the failure was found, or the budget ran out, or the space was exhausted).
   */
  rounds?: number[];
  /** Executions cut short by sleep sets: every schedule on from where they stopped was equivalent to one already run. */
  pruned: number;
  /** Executions cut at `maxSteps` events: no failure found in them, but they did not end. */
  cut: number;
  /** The strategy covered its whole bounded space without a failure: a bounded proof. */
  exhausted: boolean;
  failure?: Counterexample;
  /** Per `sometimes` property: executions that reached it. */
  sometimes: Record<string, number>;
  seconds: number;
}

interface Outcome {
  /** The simulator's seed it ran with. */
  seed: number;
  steps: StepRecord[];
  /** Labels of the enabled events at each step (to check determinism). */
  offered: string[];
  failure?: { code: string; message: string };
  reached: Set<string>;
  trace: string;
  /** Cut short by the strategy: every schedule on from here is covered by an equivalent one. */
  pruned?: boolean;
  /** Cut at `maxSteps` events. */
  cut?: boolean;
}

/** Thrown out of the simulation to cut an execution short: covered by the strategy elsewhere, or too long. */
class Pruned extends Error {}
class Cut extends Error {}

/** Async timing's default cap on the events of one execution. */
export const ASYNC_MAX_STEPS = 20_000;
/** Async timing's default budget of timer firings ahead of earlier events, per rank and execution. */
export const TIMER_BUDGET = 2;

export async function explore<T>(options: ExploreOptions, setup: () => ExploreRun<T>): Promise<ExploreReport> {
  return exploreWith(undefined, options, setup);
}

/** `explore()` with a strategy built by the caller instead of from `options.strategy` (tests give it a variant). */
export async function exploreWith<T>(
  given: Strategy | undefined,
  options: ExploreOptions,
  setup: () => ExploreRun<T>,
): Promise<ExploreReport> {
  const started = performance.now();
  const slack = options.timerSlackMs ?? 0;
  if (!(slack >= 0 && Number.isFinite(slack)))
    throw new DsError(ErrorCode.InvalidArgument, `explore: timerSlackMs must be a finite number >= 0, got ${String(slack)}`);
  for (const [name, value] of [
    ['maxSteps', options.maxSteps],
    ['timerBudget', options.timerBudget],
  ] as const)
    if (value !== undefined && !(Number.isInteger(value) && value >= (name === 'maxSteps' ? 1 : 0)))
      throw new DsError(
        ErrorCode.InvalidArgument,
        `explore: ${name} must be an integer >= ${name === 'maxSteps' ? 1 : 0}, got ${String(value)}`,
      );
  checkRoundOptions(options);
  checkFaultOptions(options);
  const fixed = options.schedule ?? process.env.DSMPI_SCHEDULE;
  const fixedSchedule = fixed === undefined ? undefined : parseSchedule(fixed);
  if (fixedSchedule) {
    checkScheduleFaults(fixedSchedule, options.n);
    // A schedule runs with the faults it names, whatever the budgets.
    options = withBudgetFor(options, fixedSchedule);
  }
  const strategy = fixed === undefined ? (given ?? strategyFor(options)) : undefined;
  const systematic = options.strategy === 'delay-bounding' || options.strategy === 'dfs' || options.strategy === 'dpor';
  const budget = options.executions ?? (systematic ? Infinity : 1000);
  const sometimes: Record<string, number> = Object.fromEntries(Object.keys(setup().sometimes ?? {}).map((k) => [k, 0]));
  let executions = 0;
  let pruned = 0;
  let cut = 0;
  let failing: Outcome | undefined;
  for (;;) {
    if (fixed === undefined && executions >= budget) break;
    const plan = fixedSchedule ? followSchedule(fixedSchedule) : strategy!.next();
    if (!plan) break;
    const outcome = await execute(options, setup, plan);
    executions++;
    if (outcome.pruned) pruned++;
    if (outcome.cut) cut++;
    for (const k of outcome.reached) sometimes[k]++;
    strategy?.done(outcome.steps);
    if (outcome.failure) {
      failing = outcome;
      break;
    }
    if (fixed !== undefined) {
      if (options.trace) writeFileSync(options.trace, outcome.trace);
      break;
    }
  }
  let failure: Counterexample | undefined;
  const secondsToFind = (performance.now() - started) / 1000;
  if (failing) {
    let schedule = deviations(failing.steps.map((s) => s.choice));
    let outcome = failing;
    if (fixed === undefined && (options.minimize ?? true)) ({ schedule, outcome } = await minimize(options, setup, schedule, outcome));
    const again = await execute(options, setup, followSchedule(schedule, outcome.seed));
    failure = {
      schedule: formatSchedule(schedule),
      seed: outcome.seed,
      code: outcome.failure!.code,
      message: outcome.failure!.message,
      foundAfter: executions,
      secondsToFind,
      steps: outcome.steps.length,
      nondeterministic: again.offered.join('\n') !== outcome.offered.join('\n'),
    };
    if (options.trace) writeFileSync(options.trace, outcome.trace);
  }
  return {
    strategy: fixed !== undefined ? `schedule ${fixed}` : strategy!.name,
    executions,
    revisits: strategy instanceof DelayBounding ? strategy.revisits : 0,
    rounds: strategy?.deepening && strategy.rounds ? [...strategy.rounds] : undefined,
    pruned,
    cut,
    exhausted: !failure && (strategy?.exhausted ?? false),
    failure,
    sometimes,
    seconds: (performance.now() - started) / 1000,
  };
}

/** The strategy `options` name (tests wrap it to watch what it chooses). */
export function strategyFor(options: ExploreOptions): Strategy {
  const seed = options.seed ?? 1;
  const faults: FaultBudget = { crashes: options.crashes ?? 0, partitions: options.partitions ?? 0, pauses: options.pauses ?? 0 };
  switch (options.strategy) {
    case 'seeds':
      return new RandomSeeds(seed);
    case 'random':
      return new RandomWalk(seed, options.drops ?? 0, faults);
    case 'pct':
      return new Pct(seed, options.depth ?? 3, options.drops ?? 0, options.pctThreads, faults, options.timing);
    case 'pctcp':
      return new PctCp(seed, options.depth ?? 3, options.drops ?? 0, faults, options.timing);
    case 'delay-bounding':
      return new DelayBounding(
        options.delays ?? 2,
        options.drops ?? 0,
        options.sleepSets,
        true,
        faults,
        options.roundCost,
        options.shallowFirst,
      );
    case 'dfs':
      return new DelayBounding(options.delays ?? Infinity, options.drops ?? 0, options.sleepSets, false, faults);
    case 'dpor':
      return new Dpor(options.n, options.drops ?? 0, undefined, options.deepening ?? true, faults, options.roundCost, options.shallowFirst);
    default:
      throw new DsError(
        ErrorCode.InvalidArgument,
        `explore: strategy must be seeds, random, pct, pctcp, delay-bounding, dfs or dpor, got ${String(options.strategy as unknown)}`,
      );
  }
}

/** One execution of the program under `plan`. */
async function execute<T>(options: ExploreOptions, setup: () => ExploreRun<T>, plan: ExecutionPlan): Promise<Outcome> {
  const run = setup();
  const timing = options.timing ?? 'bounded';
  const slackUs = Math.round((options.timerSlackMs ?? 0) * 1000);
  const maxSteps = options.maxSteps ?? (timing === 'async' ? ASYNC_MAX_STEPS : Infinity);
  // Async timing: per rank, the timer firings left that may go ahead of an event due before them.
  const budget = options.timerBudget ?? TIMER_BUDGET;
  const ahead = new Map<number, number>();
  const mayRunAhead = (rank: number): boolean => (ahead.get(rank) ?? 0) < budget;
  const steps: StepRecord[] = [];
  const offered: string[] = [];
  const reached = new Set<string>();
  const seed = plan.seed ?? options.seed ?? 1;
  // The faults the explorer may still choose in this execution, and the means to inject them.
  let crashesLeft = options.crashes ?? 0;
  let partitionsLeft = options.partitions ?? 0;
  let pausesLeft = options.pauses ?? 0;
  let injector: FaultInjector | undefined;
  const offer = (): FaultChoice[] =>
    crashesLeft + partitionsLeft + pausesLeft === 0 || !injector
      ? []
      : faultsOffered(options, injector, crashesLeft > 0, partitionsLeft > 0, pausesLeft > 0);
  // For causal plans: the step whose event created each pending event (by seq; −1: the ranks' start).
  const createdBy = plan.causal ? new Map<number, number>() : undefined;
  const causedBy = (e: SimEvent): number => createdBy?.get(e.seq) ?? -1;
  const chooser: EventChooser = (queue, scheduler) => {
    // Every event new since the last step was created by that step (the ranks react before the next).
    if (createdBy) for (const e of queue.values()) if (!createdBy.has(e.seq)) createdBy.set(e.seq, steps.length - 1);
    const enabled = enabledEvents(queue, scheduler, timing, !options.faults?.breakFifo, slackUs, mayRunAhead);
    if (enabled.length === 0) return undefined;
    const step = steps.length;
    if (step >= maxSteps) throw new Cut();
    const faults = offer();
    const choice = plan.choose(step, enabled, causedBy, faults);
    if (!choice) throw new Pruned();
    steps.push({ choice, events: enabled, losable: enabled.map((e) => e.lose !== undefined), faults });
    offered.push([...enabled.map(eventLabel), ...faults.map(faultText)].join(', '));
    if (choice.fault) {
      if (choice.fault.kind === 'crash') crashesLeft--;
      else if (choice.fault.kind === 'pause') pausesLeft--;
      else partitionsLeft--;
      return faultStep(choice.fault, options, injector!, scheduler.nowUs);
    }
    const e = enabled[choice.index];
    if (timing === 'async' && e.id?.kind === 'timer' && !onTime(e, queue, scheduler, slackUs))
      ahead.set(e.id.rank, (ahead.get(e.id.rank) ?? 0) + 1);
    queue.remove(e);
    // Taken ahead of its drawn time, a message arrives when the first enabled event was due (or its earliest).
    // (A timer keeps its own time, late if others went first: fired early, a deadline loop would only set it again.)
    if (e.id?.kind !== 'timer') e.timeUs = Math.max(e.id?.earliestUs ?? 0, Math.min(e.timeUs, enabled[0].timeUs));
    return choice.lose && e.lose ? { timeUs: e.timeUs, seq: e.seq, run: e.lose } : e;
  };
  const afterEvent = (): void => {
    for (const [name, holds] of Object.entries(run.sometimes ?? {})) if (!reached.has(name) && holds()) reached.add(name);
    run.always?.();
  };
  let failure: Outcome['failure'];
  let result: SimulationResult<T> | undefined;
  let trace = '';
  try {
    result = await simulate(
      {
        n: options.n,
        seed,
        faults: options.faults,
        timeLimitMs: options.timeLimitMs,
        chooser,
        rankClocks: options.rankClocks,
        afterEvent,
        injectFaults: {
          restarts: (options.crashes ?? 0) > 0 && options.restartAfterMs !== undefined,
          ready: (given) => void (injector = given),
        },
      },
      (comm) => run.main(comm),
    );
    trace = result.jsonl();
  } catch (err) {
    if (err instanceof Pruned) return { seed, steps, offered, reached, trace, pruned: true };
    if (err instanceof Cut) return { seed, steps, offered, reached, trace, cut: true };
    const code = err instanceof DsError ? err.code : 'ERROR';
    if (err instanceof DsError && 'trace' in err)
      trace = formatTrace((err as DsError & { trace: Parameters<typeof formatTrace>[0] }).trace);
    const liveness = code === ErrorCode.Deadlock || code === ErrorCode.TimeLimit;
    if (!liveness || (options.liveness ?? timing === 'bounded'))
      failure = { code, message: err instanceof Error ? err.message : String(err) };
  }
  if (!failure) {
    try {
      run.check?.(result);
    } catch (err) {
      failure = { code: 'CHECK', message: err instanceof Error ? err.message : String(err) };
    }
  }
  return { seed, steps, offered, failure, reached, trace };
}

/**
 * Cuts a failing schedule to a 1-minimal one (delta debugging): drops chunks of deviations, halving
 * the chunk down to single deviations (faults first, then losses), while the run still fails, to a
 * fixpoint; then lowers each remaining index while it still fails.
 */
async function minimize<T>(
  options: ExploreOptions,
  setup: () => ExploreRun<T>,
  schedule: Schedule,
  outcome: Outcome,
): Promise<{ schedule: Schedule; outcome: Outcome }> {
  const fails = async (candidate: Schedule): Promise<Outcome | undefined> => {
    const o = await execute(options, setup, followSchedule(candidate, outcome.seed));
    return o.failure ? o : undefined;
  };
  // Faults first, then losses, then delays.
  const kind = (c: Choice): number => (c.fault ? 2 : c.lose ? 1 : 0);
  let entries = [...schedule.entries()].sort((a, b) => kind(b[1]) - kind(a[1]) || a[0] - b[0]);
  for (let chunk = Math.max(1, entries.length); ; chunk = Math.max(1, Math.floor(chunk / 2))) {
    let removed = false;
    for (let i = 0; i < entries.length;) {
      const candidate = without(entries, i, chunk);
      const o = await fails(new Map(candidate));
      if (o) {
        entries = candidate;
        outcome = o;
        removed = true;
      } else {
        i += chunk;
      }
    }
    if (chunk === 1 && !removed) break;
  }
  schedule = new Map(entries);
  for (const [step, choice] of [...schedule.entries()]) {
    for (let index = 0; index < choice.index; index++) {
      const candidate = new Map(schedule).set(step, { ...choice, index });
      if (index === 0 && !choice.lose) candidate.delete(step);
      const o = await fails(candidate);
      if (o) {
        schedule = candidate;
        outcome = o;
        break;
      }
    }
  }
  return { schedule, outcome };
}

/**
 * The entries without those at positions `i` to `i + chunk`: a fault is a step of its own, so the
 * steps after a fault taken out move up by one, to keep the other deviations at their events.
 */
function without(entries: ReadonlyArray<[number, Choice]>, i: number, chunk: number): Array<[number, Choice]> {
  const gone = entries.slice(i, i + chunk).flatMap(([step, c]) => (c.fault ? [step] : []));
  return [...entries.slice(0, i), ...entries.slice(i + chunk)].map(([step, c]) => [step - gone.filter((g) => g < step).length, c]);
}

/** The line that replays a counterexample. */
export function replayLine(failure: Counterexample, command: string): string {
  return `DSMPI_SCHEDULE=${failure.schedule} ${command}`;
}
