import { seededRandom } from '../../random.ts';
import { eventLabel, eventRank, type SimEvent } from '../event-queue.ts';
import type { TimingModel } from './enabled.ts';
import type { FaultChoiceOptions } from './fault-choices.ts';
import { Rounds, type RoundCost } from './rounds.ts';
import { DEFAULT_CHOICE, sameFault, type Choice, type FaultChoice, type Schedule } from './schedule.ts';

/** What one step of an execution offered and what was taken. */
export interface StepRecord {
  choice: Choice;
  /** The enabled events it chose from, in the simulator's order. */
  events: readonly SimEvent[];
  /** Per enabled event: whether the network could lose it instead (a delivery). */
  losable: boolean[];
  /** The faults the explorer offered beside the events (while its budgets last). */
  faults: readonly FaultChoice[];
}

/** At most this many crashes, partitions and pauses the explorer chooses per execution: the budgets of FaultChoiceOptions. */
export type FaultBudget = Required<Pick<FaultChoiceOptions, 'crashes' | 'partitions' | 'pauses'>>;

export const NO_FAULTS: FaultBudget = { crashes: 0, partitions: 0, pauses: 0 };

/** The choices of one execution. */
export interface ExecutionPlan {
  /**
   * The choice at this step; undefined cuts the execution short (everything left is covered elsewhere).
   * `causedBy` (given to plans that set `causal`) tells the step whose event created an event (−1: none,
   * the ranks' start). `faults`: the faults that may be injected instead of an event (a choice with
   * `fault`), in a fixed order; none once the budgets are spent.
   */
  choose(
    step: number,
    enabled: readonly SimEvent[],
    causedBy?: (e: SimEvent) => number,
    faults?: readonly FaultChoice[],
  ): Choice | undefined;
  /** Whether `choose` needs `causedBy` (the explorer then tracks which step created each event). */
  causal?: boolean;
  /** The simulator's seed for this execution, if the strategy draws it (else the explorer's). */
  seed?: number;
}

/** How an explorer walks the schedules of a program: one plan per execution, fed back what it did. */
export interface Strategy {
  readonly name: string;
  /** The next execution's plan, or undefined once the strategy has covered all it promises. */
  next(): ExecutionPlan | undefined;
  done(steps: readonly StepRecord[]): void;
  /** Whether the strategy covered all it promises (a bounded proof), not merely ran out of budget. */
  readonly exhausted: boolean;
  /** Whether it searches in rounds of 0, 1, … deviations, and the executions of each (the report's `rounds`). */
  readonly deepening?: boolean;
  readonly rounds?: readonly number[];
}

/** Follows one schedule: its deviations where it has them, the simulator's own order elsewhere. */
export function followSchedule(schedule: Schedule, seed?: number): ExecutionPlan {
  return {
    seed,
    choose: (step, enabled, _causedBy, faults = []) => {
      const c = schedule.get(step);
      if (!c) return DEFAULT_CHOICE;
      // A shortened schedule may name a fault that cannot happen there (its rank already down): none is injected.
      if (c.fault) return faults.some((f) => sameFault(f, c.fault!)) ? c : DEFAULT_CHOICE;
      // A shortened schedule may ask past the end of a smaller enabled set: the last one stands in.
      const index = Math.min(c.index, enabled.length - 1);
      return { index, lose: c.lose && enabled[index].lose !== undefined };
    },
  };
}

/** Random seeds: each execution is a seeded simulation in its own order (what the fuzzer and tests do). */
export class RandomSeeds implements Strategy {
  readonly name = 'random seeds';
  readonly exhausted = false;
  private execution = 0;

  constructor(private readonly seed: number) {}

  next(): ExecutionPlan {
    return { choose: () => DEFAULT_CHOICE, seed: (this.seed + this.execution++) >>> 0 };
  }

  done(): void {}
}

/**
 * Loses a message with a probability that spends about `drops` losses per execution of `steps`
 * steps, and never more than `drops`: how the random strategies take the explorer's loss budget.
 */
function lossBudget(drops: number, steps: () => number, random: () => number): (e: SimEvent) => boolean {
  let left = drops;
  return (e) => {
    if (left === 0 || e.lose === undefined || random() >= drops / steps()) return false;
    left--;
    return true;
  };
}

/**
 * Injects a crash with probability `crashes / steps` at each step that offers one, a partition with
 * probability `partitions / steps`, a pause with `pauses / steps` (each uniformly among those offered): about the budget per
 * execution of `steps` steps, never more (the explorer stops offering them). Draws nothing at a step
 * that offers no fault, so without fault budgets the random choices are those of before.
 */
function faultChance(
  budget: FaultBudget,
  steps: () => number,
  random: () => number,
): (offered: readonly FaultChoice[]) => FaultChoice | undefined {
  const kinds = [
    ['crash', budget.crashes],
    ['partition', budget.partitions],
    ['pause', budget.pauses],
  ] as const;
  return (offered) => {
    for (const [kind, allowed] of kinds) {
      const some = offered.filter((f) => f.kind === kind);
      const p = allowed / steps();
      if (some.length > 0 && random() < p) return some[Math.floor(random() * some.length)];
    }
    return undefined;
  };
}

/** Uniform random walk: each step takes any enabled event with equal probability, each execution with the next seed. */
export class RandomWalk implements Strategy {
  readonly name = 'random walk';
  readonly exhausted = false;
  private execution = 0;
  private steps = 1;

  constructor(
    private readonly seed: number,
    private readonly drops = 0,
    private readonly faults: FaultBudget = NO_FAULTS,
  ) {}

  next(): ExecutionPlan {
    const execution = this.execution++;
    const random = seededRandom(this.seed, execution);
    const lose = lossBudget(this.drops, () => this.steps, random);
    const fault = faultChance(this.faults, () => this.steps, random);
    return {
      // A fresh seed too, as random seeds have: timers and comm.random() vary, not only the order.
      seed: (this.seed + execution) >>> 0,
      choose: (_step, enabled, _causedBy, faults = []) => {
        const f = fault(faults);
        if (f) return { index: 0, lose: false, fault: f };
        const index = Math.floor(random() * enabled.length);
        return { index, lose: lose(enabled[index]) };
      },
    };
  }

  done(steps: readonly StepRecord[]): void {
    this.steps = Math.max(this.steps, steps.length);
  }
}

/**
 * Whether no message is in flight: the enabled events are timers (and faults of the network) only.
 * Under async timing PCT and PCTCP then take the simulator's own order (the earliest due first)
 * instead of their priorities: with nothing in flight a timer racing only other ranks' timers
 * would merely spend its rank's budget of firings ahead (the highest-priority rank's timers firing
 * ahead at the start of the run, before any message exists), and the race that async timing opens
 * is a timer against the messages in flight, which the priorities still decide.
 */
function nothingInFlight(enabled: readonly SimEvent[]): boolean {
  return !enabled.some((e) => e.id?.kind === 'deliver');
}

/** The index of the first enabled event of the highest priority (PCT's and PCTCP's next event). */
function highest(enabled: readonly SimEvent[], priority: (e: SimEvent) => number): number {
  let best = 0;
  for (let i = 1; i < enabled.length; i++) if (priority(enabled[i]) > priority(enabled[best])) best = i;
  return best;
}

/**
 * What PCT gives priorities to, its "threads" in a message-passing program:
 * - `sender`: a delivery is its sender's step, a timer its rank's (PCT orders the senders' messages);
 * - `receiver`: a delivery is its receiver's step, a timer its rank's (an actor draining its inbox, as
 *   Coyote's PCT over actors);
 * - `link` (the default): each FIFO link (sender to receiver) is a thread, and each rank's timers
 *   another: PCT then orders the messages of different senders at one receiver, a sender's messages
 *   to different receivers, and a timer against the messages it races. On the bug benchmark it gave
 *   the smallest executions to the first failure of the three (docs/exploration.md).
 *
 * Under async timing each rank's timers are a thread of their own in every mapping: as its rank's
 * step a timer, which may go ahead of messages there, would never go ahead of the deliveries to its
 * rank (by receiver), and would spend its budget of firings ahead whenever its rank's thread led.
 */
export type PctThreads = 'sender' | 'receiver' | 'link';

/**
 * PCT (probabilistic concurrency testing, Burckhardt et al.): each thread (`threads`: a rank, or a
 * link and a rank's timers) gets a random priority and the enabled event of the highest-priority
 * thread goes next; at d − 1 random steps the thread about to go drops to a priority below all
 * others; each execution has the next seed. A bug of depth d is found with probability
 * ≥ 1/(t·k^(d−1)), t the number of threads and k of steps. Events that concern no one rank
 * (partitions) go in the simulator's order. Under async timing a step with no message in flight
 * goes in the simulator's order too (`nothingInFlight`) and is no PCT step: k counts the steps with
 * one in flight, and the change points fall among them.
 */
export class Pct implements Strategy {
  readonly name: string;
  readonly exhausted = false;
  private execution = 0;
  /** The longest execution seen, in steps (losses and faults are drawn over them). */
  private steps = 1;
  /** The most PCT steps (all steps but those with nothing in flight under async timing) of an execution: change points are drawn among them. */
  private pctSteps = 1;
  private lastPctSteps = 0;

  constructor(
    private readonly seed: number,
    private readonly depth: number,
    private readonly drops = 0,
    private readonly threads: PctThreads = 'link',
    private readonly faults: FaultBudget = NO_FAULTS,
    private readonly timing: TimingModel = 'bounded',
  ) {
    this.name = `pct d=${depth}, ${threads} threads`;
  }

  next(): ExecutionPlan {
    const execution = this.execution++;
    const random = seededRandom(this.seed, execution);
    const depth = this.depth;
    const priority = new Map<string, number>();
    const threadOf = (e: SimEvent): string | undefined => pctThread(e, this.threads, this.timing);
    const priorityOf = (thread: string | undefined): number => {
      if (thread === undefined) return Infinity;
      let p = priority.get(thread);
      // Initial priorities sit above d, each thread's drawn when first seen: a random order of the threads.
      if (p === undefined) priority.set(thread, (p = depth + random()));
      return p;
    };
    const changes = Array.from({ length: depth - 1 }, () => Math.floor(random() * this.pctSteps));
    const lose = lossBudget(this.drops, () => this.steps, random);
    const fault = faultChance(this.faults, () => this.steps, random);
    const top = (enabled: readonly SimEvent[]): number => highest(enabled, (e) => priorityOf(threadOf(e)));
    let pctStep = 0;
    this.lastPctSteps = 0;
    return {
      seed: (this.seed + execution) >>> 0,
      choose: (_step, enabled, _causedBy, faults = []) => {
        // A fault is no thread's step: the priorities and change points stay as they are.
        const f = fault(faults);
        if (f) return { index: 0, lose: false, fault: f };
        if (this.timing === 'async' && nothingInFlight(enabled)) return { index: 0, lose: false };
        const step = pctStep++;
        this.lastPctSteps = pctStep;
        const change = changes.indexOf(step);
        if (change >= 0) {
          const thread = threadOf(enabled[top(enabled)]);
          if (thread !== undefined) priority.set(thread, depth - 1 - change);
        }
        const index = top(enabled);
        return { index, lose: lose(enabled[index]) };
      },
    };
  }

  done(steps: readonly StepRecord[]): void {
    this.steps = Math.max(this.steps, steps.length);
    this.pctSteps = Math.max(this.pctSteps, this.lastPctSteps);
  }
}

/**
 * PCTCP (Ozkan, Majumdar, Niksic, Befrouei and Weissenbacher, "Randomized testing of distributed
 * systems with probabilistic guarantees", OOPSLA 2018): PCT over chains of causally ordered events
 * rather than over ranks. Each event, when first offered, joins the chain whose last event is its
 * nearest causal ancestor (the event whose step created it, that one's creator, …); if none is a
 * chain's last, it starts a chain with a random priority above d. The enabled event of the
 * highest-priority chain goes next. The d − 1 change points are over events (numbered in the order
 * they are first offered): when the event numbered at the i-th is about to go, its chain drops to
 * priority d − 1 − i, below every other. A bug of depth d is found with probability
 * ≥ 1/(w²·k^(d−1)) per execution, w the width of the partial order of events and k their number:
 * the ranks' count plays no part, only how many causally independent chains there are. Under
 * async timing a step with no message in flight goes in the simulator's order (`nothingInFlight`);
 * a change point at its event still lowers that event's chain.
 */
export class PctCp implements Strategy {
  readonly name: string;
  readonly exhausted = false;
  private execution = 0;
  /** The most events any execution numbered: change points are drawn among them. */
  private events = 1;
  private numbered = 0;

  constructor(
    private readonly seed: number,
    private readonly depth: number,
    private readonly drops = 0,
    private readonly faults: FaultBudget = NO_FAULTS,
    private readonly timing: TimingModel = 'bounded',
  ) {
    this.name = `pctcp d=${depth}`;
  }

  next(): ExecutionPlan {
    const execution = this.execution++;
    const random = seededRandom(this.seed, execution);
    const depth = this.depth;
    const changes = Array.from({ length: depth - 1 }, () => Math.floor(random() * this.events));
    const lose = lossBudget(this.drops, () => this.events, random);
    const fault = faultChance(this.faults, () => this.events, random);
    /** Per event (by seq): its number, its chain, and its creator's seq (undefined: the ranks' start). */
    const known = new Map<number, { number: number; chain: number; parent?: number }>();
    /** Per chain: its priority and its last event's seq. */
    const chains: Array<{ priority: number; last: number }> = [];
    /** The seq of the event taken at each step. */
    const taken: number[] = [];
    let numbered = 0;
    const join = (e: SimEvent, causedBy: (e: SimEvent) => number): void => {
      const parent: number | undefined = taken[causedBy(e)];
      let chain = -1;
      for (let a: number | undefined = parent; a !== undefined && chain < 0; a = known.get(a)?.parent) {
        const c: number | undefined = known.get(a)?.chain;
        if (c !== undefined && chains[c].last === a) chain = c;
      }
      if (chain < 0) chain = chains.push({ priority: depth + random(), last: e.seq }) - 1;
      else chains[chain].last = e.seq;
      known.set(e.seq, { number: numbered++, chain, parent });
    };
    const priorityOf = (e: SimEvent): number => (e.id && e.id.kind !== 'fault' ? chains[known.get(e.seq)!.chain].priority : Infinity);
    const top = (enabled: readonly SimEvent[]): number => highest(enabled, priorityOf);
    return {
      seed: (this.seed + execution) >>> 0,
      causal: true,
      choose: (step, enabled, causedBy, faults = []) => {
        for (const e of enabled) if (!known.has(e.seq)) join(e, causedBy!);
        this.numbered = Math.max(this.numbered, numbered);
        // A fault is no chain's event: what it creates (a restart, news of the crash) starts chains of its own.
        const f = fault(faults);
        if (f) return { index: 0, lose: false, fault: f };
        const inOrder = this.timing === 'async' && nothingInFlight(enabled);
        let index = inOrder ? 0 : top(enabled);
        // A change point lowers the chain about to go; the next one up may be at a change point too.
        for (let change; (change = changes.indexOf(known.get(enabled[index].seq)?.number ?? -1)) >= 0; index = inOrder ? 0 : top(enabled)) {
          changes[change] = -1;
          chains[known.get(enabled[index].seq)!.chain].priority = depth - 1 - change;
        }
        taken[step] = enabled[index].seq;
        return { index, lose: lose(enabled[index]) };
      },
    };
  }

  done(): void {
    this.events = Math.max(this.events, this.numbered);
    this.numbered = 0;
  }
}

/** The PCT thread an event is a step of (undefined: a fault of the network, which goes in the simulator's order). */
function pctThread(e: SimEvent, threads: PctThreads, timing: TimingModel): string | undefined {
  const id = e.id;
  if (!id || id.rank < 0) return undefined;
  // A crash, restart or pause of a rank is that rank's step.
  if (id.kind === 'fault') return `rank ${id.rank}`;
  if (id.kind === 'timer') return threads === 'link' || timing === 'async' ? `timer ${id.rank}` : `rank ${id.rank}`;
  if (threads === 'link') return `link ${id.from}>${id.rank}`;
  return `rank ${threads === 'sender' ? id.from : id.rank}`;
}

/**
 * Delay bounding (Emmi, Qadeer and Rakamarić): every schedule that departs from the simulator's own
 * order by at most `delays` (taking the i-th enabled event costs i; counting deviations, 1), and loses
 * at most `drops` messages (and injects the crashes, partitions and pauses the explorer offers, within
 * its budgets), by stateless depth-first search with re-execution. Iterative deepening over
 * deviations (rounds.ts: a delay costs what `roundCost` says, a loss or a fault 1): round k runs every
 * schedule of at most k, so the first counterexample found is one of the fewest deviations, and the
 * search is deterministic: given the program and the seed, it finds a bug at one exact execution
 * count. The search ends once a round leaves no choice within the bounds for a later one. With
 * `shallowFirst`, each round runs in passes, deviating first only at the first N steps, then 2N, …;
 * the last pass is the whole round. With `deepening: false` it is one plain depth-first search of
 * every schedule within the bounds (`delays: Infinity`: every schedule).
 *
 * With `sleepSets`, partial-order reduction (Godefroid's sleep sets): events of different ranks
 * commute (one rank's event changes only that rank and what it sends), so once a choice has been
 * explored at a step, the schedules that take it later, after events of other ranks only, are
 * equivalent and skipped; an execution in which every choice left is asleep is cut short (pruned).
 */
export class DelayBounding implements Strategy {
  readonly name: string;
  exhausted = false;
  /** Executions that repeated a schedule of an earlier round to reach the ones beyond it. */
  revisits = 0;
  /** The rounds of deviations and their passes (rounds.ts). */
  private readonly passes: Rounds;
  private prefix: Choice[] = [];
  /** The sleep set at each step of the last execution. */
  private sleeps: Array<Map<string, number>> = [];

  constructor(
    private readonly delays: number,
    private readonly drops: number,
    private readonly sleepSets = false,
    readonly deepening = true,
    /** Crashes, partitions and pauses: each one chosen costs a deviation, as a loss does (the explorer offers them within the budget; here only for the name). */
    faults: FaultBudget = NO_FAULTS,
    /** What a delay costs: i for the i-th enabled event, or 1 (`deviations`); `delays` bounds their sum. */
    roundCost: RoundCost = 'delays',
    /** With deepening: each round in passes over the first `shallowFirst` steps, then twice as many, … */
    shallowFirst = Infinity,
  ) {
    this.passes = new Rounds(deepening, roundCost, shallowFirst);
    const bound = delays === Infinity ? 'every schedule' : `≤${delays} delays${roundCost === 'deviations' ? ' (each costs 1)' : ''}`;
    this.name =
      `${deepening ? 'delay bounding' : 'depth-first'} ${bound}, ≤${drops} drops` +
      (faults.crashes ? `, ≤${faults.crashes} crashes` : '') +
      (faults.partitions ? `, ≤${faults.partitions} partitions` : '') +
      (faults.pauses ? `, ≤${faults.pauses} pauses` : '') +
      (sleepSets ? ', sleep sets' : '') +
      (shallowFirst < Infinity ? `, shallow first ${shallowFirst}` : '');
  }

  /** Executions in each round of 0, 1, … deviations (the current one last); one entry without rounds. */
  get rounds(): readonly number[] {
    return this.passes.counts;
  }

  next(): ExecutionPlan | undefined {
    if (this.exhausted) return undefined;
    const prefix = this.prefix;
    // Past the prefix every choice is the first, at no cost (sleep sets aside): the execution costs what its prefix does.
    if (this.deepening && total(prefix.reduce((spent, c) => this.spend(spent, c), NOTHING_SPENT)) < this.passes.bound) this.revisits++;
    this.passes.execution();
    const sleeps: Array<Map<string, number>> = (this.sleeps = []);
    let sleep = new Map<string, number>();
    let before = NOTHING_SPENT;
    return {
      choose: (step, enabled, _causedBy, faults = []) => {
        sleeps.push(sleep);
        const losable = (i: number): boolean => enabled[i].lose !== undefined;
        const choice = prefix[step] ?? this.options(step, enabled, losable, faults, before, sleep).next().value;
        if (!choice) return undefined;
        const spent = before;
        if (this.sleepSets) sleep = sleepAfter(sleep, enabled, choice, (c) => this.admits(c, spent, step, false));
        before = this.spend(before, choice);
        return choice;
      },
    };
  }

  done(steps: readonly StepRecord[]): void {
    let sum = NOTHING_SPENT;
    const spent = steps.map((s) => {
      const before = sum;
      sum = this.spend(sum, s.choice);
      return before;
    });
    for (let s = steps.length - 1; s >= 0; s--) {
      const { choice, losable, events, faults } = steps[s];
      for (const alt of this.options(s, events, (i) => losable[i], faults, spent[s], this.sleeps[s], choice)) {
        this.prefix = [...steps.slice(0, s).map((r) => r.choice), alt];
        return;
      }
    }
    // The round's next pass, or the next round, from the start; none left within the bounds: exhausted.
    if (this.passes.advance()) this.prefix = [];
    else this.exhausted = true;
  }

  /**
   * The choices at a step in the search's order (each index delivered, then lost; then the faults
   * offered, in their order), after `from`, awake, within the bounds and the current pass.
   */
  private *options(
    step: number,
    events: readonly SimEvent[],
    losable: (i: number) => boolean,
    faults: readonly FaultChoice[],
    spent: Spent,
    sleep: ReadonlyMap<string, number> | undefined,
    from?: Choice,
  ): Generator<Choice> {
    const all: Choice[] = [];
    for (let index = 0; index < events.length; index++)
      for (const lose of losable(index) ? [false, true] : [false]) all.push({ index, lose });
    for (const fault of faults) all.push({ index: 0, lose: false, fault });
    const same = (a: Choice, b: Choice): boolean =>
      a.fault || b.fault ? !!a.fault && !!b.fault && sameFault(a.fault, b.fault) : a.index === b.index && a.lose === b.lose;
    const start = from ? all.findIndex((c) => same(c, from)) + 1 : 0;
    for (const c of all.slice(start)) {
      // A choice asleep here stays asleep in later rounds (they explore more before it, not less).
      if (!c.fault && sleep?.has(choiceKey(events[c.index], c.lose))) continue;
      if (this.admits(c, spent, step)) yield c;
    }
  }

  /**
   * Whether choice `c` at `step`, after what was `spent`, keeps within the caps (`delays`, `drops`)
   * and, if it deviates, the current round and pass (a choice within the caps that is not is left
   * for a later one, unless `note` is false).
   */
  private admits(c: Choice, spent: Spent, step: number, note = true): boolean {
    const after = this.spend(spent, c);
    if (after.delays > this.delays || after.drops > this.drops) return false;
    return total(after) === total(spent) || this.passes.admits(total(after), step, note);
  }

  /** What a schedule has spent once it takes `c`. */
  private spend(spent: Spent, c: Choice): Spent {
    return {
      delays: spent.delays + this.passes.delay(c.index),
      drops: spent.drops + Number(c.lose),
      faults: spent.faults + Number(!!c.fault),
    };
  }
}

/** What a schedule has spent: its delays (as the round cost counts them), its losses, its faults. */
interface Spent {
  delays: number;
  drops: number;
  faults: number;
}

const NOTHING_SPENT: Spent = { delays: 0, drops: 0, faults: 0 };

/** A schedule's deviations: its delays, losses and faults. */
function total(spent: Spent): number {
  return spent.delays + spent.drops + spent.faults;
}

/** A choice's name across executions: the event's identity, and whether it is lost. */
export function choiceKey(e: SimEvent, lose: boolean): string {
  return `${eventLabel(e)}${lose ? ' lost' : ''}`;
}

/** The rank whose state an event touches; -1 (a fault, a partition) for every rank. */
export const touched = eventRank;

/**
 * The sleep set after taking `taken` at a step: what slept there, and the choices explored there
 * before it (those ahead of it in the search's order, if they were within the bounds), less what
 * does not commute with it (an event of the same rank, or a fault).
 */
function sleepAfter(
  sleep: ReadonlyMap<string, number>,
  enabled: readonly SimEvent[],
  taken: Choice,
  affordable: (c: Choice) => boolean,
): Map<string, number> {
  const next = new Map<string, number>();
  // A fault commutes with nothing.
  if (taken.fault) return next;
  const rank = touched(enabled[taken.index]);
  const commutes = (r: number): boolean => rank >= 0 && r >= 0 && r !== rank;
  for (const [key, r] of sleep) if (commutes(r)) next.set(key, r);
  for (let index = 0; index <= taken.index; index++) {
    const r = touched(enabled[index]);
    if (!commutes(r)) continue;
    const before: Choice[] = [
      { index, lose: false },
      { index, lose: true },
    ];
    for (const c of before) {
      if (c.lose && enabled[index].lose === undefined) continue;
      if (index === taken.index) continue;
      if (affordable(c)) next.set(choiceKey(enabled[index], c.lose), r);
    }
  }
  return next;
}
