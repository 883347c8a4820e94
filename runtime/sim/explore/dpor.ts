import { DsError, ErrorCode } from '../../errors.ts';
import { eventLabel, type SimEvent } from '../event-queue.ts';
import { faultText, sameFault, type Choice, type FaultChoice } from './schedule.ts';
import { choiceKey, touched, type ExecutionPlan, NO_FAULTS, type FaultBudget, type StepRecord, type Strategy } from './strategies.ts';
import { Rounds, type RoundCost } from './rounds.ts';

/** One step of the current execution as the search keeps it: what was offered, explored and asleep there. */
interface Node {
  /** The enabled events' labels, in the simulator's order, and the rank each touches (−1: every rank). */
  labels: string[];
  ranks: number[];
  losable: boolean[];
  /** The faults offered beside the events (each explored here: a fault depends on everything, and may come at any step). */
  faults: FaultChoice[];
  /** The sleep set on reaching this step: choice key → the rank it touches. */
  sleep: Map<string, number>;
  /** Choices to explore here (choice keys), and those explored (the current one last). */
  backtrack: Set<string>;
  done: Set<string>;
  taken: Choice;
  /** Losses spent before this step, and deviations (`RoundCost`; a loss 1). */
  dropsBefore: number;
  costBefore: number;
}

/**
 * Source-DPOR (Abdulla, Aronis, Jonsson and Sagonas, "Optimal dynamic partial order reduction",
 * POPL 2014, its Algorithm 1) with sleep sets: a stateless depth-first search that runs one
 * execution per Mazurkiewicz trace of the explorer's dependence relation (events touching the same
 * rank; a fault depends on everything), plus executions cut short where every choice left is asleep.
 *
 * After each execution it computes happens-before (vector clocks over ranks: an event follows the
 * rank's previous event and the step that created it) and, for each event j, its race with the last
 * dependent event d before it, if d did not cause j's creation. For each race it takes the sequence
 * v of the events after d that d does not happen before, then j, and, unless an initial of v (an
 * event of v with no predecessor in v) is already in d's backtrack set, adds one that was enabled at
 * d. The next execution replays the deepest step with a backtrack choice neither explored nor asleep.
 * A delivery that may be lost is a choice of two outcomes, both explored where it is taken.
 *
 * A fault the explorer offers (a crash, a partition: ExploreOptions `crashes`, `partitions`) is an
 * event of an adversary that may act at any step and depends on every event, so every source set
 * holds it: it is explored at every step where it is offered, never sleeps, and wakes every sleeping
 * event. Once taken, it races with the last event of each rank before it (those not ordered before
 * another of them), as a scheduled fault does. So does the step that ends a run with a fault or with
 * events pending (`endingStep`): taken earlier it would have disabled the events that follow it.
 */
export class Dpor implements Strategy {
  readonly name: string;
  exhausted = false;
  /** The rounds of deviations at a backtrack point, and their passes (rounds.ts). */
  private readonly passes: Rounds;
  /** The steps of the last execution (its prefix up to `branch` is the next one's). */
  private stack: Node[] = [];
  /** Per step of the running execution: the step whose event created the event taken (−1: the ranks' start). */
  private creators: number[] = [];
  /** Per step of the running execution: the labels of the events it offered (one more than it took if cut short). */
  private offered: string[][] = [];

  constructor(
    private readonly n: number,
    private readonly drops: number,
    /** The rank an event touches (−1: every rank): two events are dependent when they touch one. Tests give it a wrong one. */
    private readonly touches: (e: SimEvent) => number = touched,
    readonly deepening = true,
    /** Crashes and partitions (the explorer offers them within the budget; here only for the name). */
    faults: FaultBudget = NO_FAULTS,
    /** What a round bounds: the delays (taking the i-th enabled event costs i), or the deviations (each costs 1). */
    roundCost: RoundCost = 'delays',
    /**
     * With deepening: each round runs in passes, its choices taken first only at the first
     * `shallowFirst` steps, then at twice as many, … until every step (default: every step at once).
     */
    shallowFirst = Infinity,
  ) {
    this.passes = new Rounds(deepening, roundCost, shallowFirst);
    this.name =
      `dpor (source sets, sleep sets${deepening ? `, rounds of ${roundCost}` : ''}), ≤${drops} drops` +
      (faults.crashes ? `, ≤${faults.crashes} crashes` : '') +
      (faults.partitions ? `, ≤${faults.partitions} partitions` : '') +
      (faults.pauses ? `, ≤${faults.pauses} pauses` : '');
  }

  /** With deepening: executions in each round of 0, 1, … deviations at a backtrack point (0: no choice of that cost). */
  get rounds(): readonly number[] {
    return this.passes.counts;
  }

  next(): ExecutionPlan | undefined {
    if (this.exhausted) return undefined;
    const stack = this.stack;
    const creators: number[] = (this.creators = []);
    const offered: string[][] = (this.offered = []);
    let sleep = new Map<string, number>();
    let drops = 0;
    let cost = 0;
    if (this.deepening) this.passes.execution();
    return {
      causal: true,
      choose: (step, enabled, causedBy, faults = []) => {
        offered[step] = enabled.map(eventLabel);
        let node = stack[step];
        let index: number;
        if (node?.taken.fault) {
          const fault = node.taken.fault;
          if (!faults.some((f) => sameFault(f, fault)))
            throw new DsError(
              ErrorCode.InvalidArgument,
              `dpor: replaying step ${step} offered no fault ${faultText(fault)}: the program is nondeterministic (time or randomness from outside the comm)`,
            );
          index = 0;
        } else if (node) {
          const label = node.labels[node.taken.index];
          index = node.taken.index;
          if (eventLabel(enabled[index] ?? enabled[0]) !== label) index = enabled.findIndex((e) => eventLabel(e) === label);
          if (index < 0)
            throw new DsError(
              ErrorCode.InvalidArgument,
              `dpor: replaying step ${step} offered no ${label}: the program is nondeterministic (time or randomness from outside the comm)`,
            );
        } else {
          index = enabled.findIndex((e) => !sleep.has(choiceKey(e, false)));
          // Every enabled event asleep, and no fault offered: every execution on from here is equivalent to one already run.
          if (index < 0 && faults.length === 0) return undefined;
          node = {
            labels: offered[step],
            ranks: enabled.map(this.touches),
            losable: enabled.map((e) => e.lose !== undefined),
            faults: [...faults],
            sleep,
            backtrack: new Set(faults.map(faultText)),
            done: new Set(),
            taken: index < 0 ? { index: 0, lose: false, fault: faults[0] } : { index, lose: false },
            dropsBefore: drops,
            costBefore: cost,
          };
          index = Math.max(index, 0);
          stack.push(node);
          this.take(node, node.taken);
        }
        const choice = node.taken;
        creators[step] = choice.fault ? -1 : causedBy!(enabled[index]);
        drops += Number(choice.lose);
        cost += this.passes.cost({ index, lose: choice.lose, fault: choice.fault });
        sleep = childSleep(node);
        return choice.fault ? choice : { index, lose: choice.lose };
      },
    };
  }

  done(steps: readonly StepRecord[]): void {
    const stack = this.stack;
    stack.length = steps.length;
    const ending = this.endingStep(steps.length);
    if (ending >= 0) this.stack[ending].ranks[this.stack[ending].taken.index] = -1;
    this.addDisabled(steps.length);
    this.addRaces(steps, ending);
    for (let b = stack.length - 1; b >= 0; b--) {
      const node = stack[b];
      const choice = this.pending(node, b);
      if (!choice) continue;
      stack.length = b + 1;
      node.taken = choice;
      this.take(node, choice);
      return;
    }
    // The round's next pass, or the next round, from the start.
    if (this.passes.advance()) stack.length = 0;
    else this.exhausted = true;
  }

  /**
   * The first choice in the search's order (each index delivered, then lost; then the faults offered)
   * to explore at a step: in its backtrack set, neither explored nor asleep, and within the round's
   * bound and, with `shallowFirst`, the pass's steps (else left for a later round or pass).
   */
  private pending(node: Node, step: number): Choice | undefined {
    const all: Choice[] = [];
    for (let index = 0; index < node.labels.length; index++) for (const lose of [false, true]) all.push({ index, lose });
    for (const fault of node.faults) all.push({ index: 0, lose: false, fault });
    for (const choice of all) {
      const key = keyAt(node, choice);
      if (!node.backtrack.has(key) || node.done.has(key) || node.sleep.has(key)) continue;
      if (this.passes.admits(node.costBefore + this.passes.cost(choice), step)) return choice;
    }
    return undefined;
  }

  /** Explores `choice` at `node`; a delivery that may be lost is explored both ways there, within the loss budget. */
  private take(node: Node, choice: Choice): void {
    const key = keyAt(node, choice);
    node.backtrack.add(key);
    node.done.add(key);
    if (!choice.fault && node.losable[choice.index] && node.dropsBefore < this.drops)
      node.backtrack.add(keyAt(node, { index: choice.index, lose: !choice.lose }));
  }

  /**
   * An event offered at a step and gone from the next step's offer, not taken, was disabled by the
   * step's event (a timer its rank cancelled on a delivery, a timer held back once an earlier event is
   * pending): it never runs, so no race shows it; it is explored at that step instead.
   */
  private addDisabled(length: number): void {
    for (let s = 0; s < length; s++) {
      const node = this.stack[s];
      const after = new Set(this.offered[s + 1] ?? []);
      node.labels.forEach((label, index) => {
        if ((node.taken.fault || index !== node.taken.index) && !after.has(label)) node.backtrack.add(keyAt(node, { index, lose: false }));
      });
    }
  }

  /**
   * The step that ended the run (every rank finished or crashed), if the run had a fault or ended with
   * events still pending (a delivery to a crashed rank, news of a crash), else −1. Taken earlier, that
   * step would have ended the run there and disabled every event not ordered before it that ran
   * after it elsewhere (a delivery to a crashed rank): it depends on every rank, so it races with each
   * rank's last event and puts nothing to sleep. Without faults a rank's last event lets it finish, so
   * the end cannot come before it: no race, and the counts without faults stay.
   */
  private endingStep(length: number): number {
    const node = this.stack[length - 1];
    // A run cut short by sleep sets offered one more step than it took: its end is no end.
    if (!node || node.taken.fault || this.offered.length !== length) return -1;
    const faulty = this.stack.some((s) => s.taken.fault || s.ranks[s.taken.index] < 0);
    return faulty || node.labels.length > 1 ? length - 1 : -1;
  }

  /** Source-DPOR's backtrack points for every race of the execution just run. */
  private addRaces(steps: readonly StepRecord[], ending: number): void {
    const n = Math.max(1, this.n);
    const length = steps.length;
    // A fault the explorer injected, and the step that ended the run with events pending, touch every rank.
    const rank = steps.map((s, i) => (s.choice.fault || i === ending ? -1 : this.touches(s.events[s.choice.index])));
    const stepOf = new Map<string, number>();
    for (let s = 0; s < length; s++) stepOf.set(takenKey(steps[s]), s);
    // Vector clocks over ranks: clock[s][r] counts rank r's events that happen before or at step s.
    // A fault (rank −1) is an event of every rank.
    const clock: Int32Array[] = [];
    const count = new Int32Array(n);
    const last = new Int32Array(n).fill(-1);
    /** Per rank, its steps in order (a fault's on every rank). */
    const chains: number[][] = Array.from({ length: n }, () => []);
    const chainOf = (s: number): number => (rank[s] >= 0 && rank[s] < n ? rank[s] : 0);
    /** Whether step a happens before step b (or is b). */
    const before = (a: number, b: number): boolean => b >= 0 && clock[b][chainOf(a)] >= clock[a][chainOf(a)];
    /**
     * The steps before each step that it races with, if not caused by them: an event of one rank, the
     * rank's last; a fault, the last of each rank, less those that happen before another of them.
     */
    const dependent: number[][] = [];
    for (let s = 0; s < length; s++) {
      const vc = new Int32Array(n);
      const join = (other: number): void => {
        if (other < 0) return;
        const o = clock[other];
        for (let r = 0; r < n; r++) if (o[r] > vc[r]) vc[r] = o[r];
      };
      join(this.creators[s] ?? -1);
      const own = rank[s] >= 0 && rank[s] < n ? [rank[s]] : [...Array(n).keys()];
      const lasts = [...new Set(own.map((r) => last[r]).filter((d) => d >= 0))];
      dependent[s] = lasts.filter((d) => !lasts.some((e) => e !== d && before(d, e)));
      for (const r of own) join(last[r]);
      for (const r of own) {
        vc[r] = ++count[r];
        last[r] = s;
        chains[r].push(s);
      }
      clock[s] = vc;
    }
    const onChain = (s: number, r: number): boolean => rank[s] === r || !(rank[s] >= 0 && rank[s] < n);
    for (let j = 0; j < length; j++)
      for (const d of dependent[j]) {
        if (before(d, this.creators[j] ?? -1)) continue;
        this.reverse(d, j, steps, stepOf, before, clock, chains, onChain);
      }
  }

  /**
   * Source-DPOR's backtrack point for the race of steps d and j (j could have gone before d): v = the
   * events after d that d does not happen before, then j; unless an initial of v is in d's backtrack
   * set, one that was offered at d is added.
   */
  private reverse(
    d: number,
    j: number,
    steps: readonly StepRecord[],
    stepOf: ReadonlyMap<string, number>,
    before: (a: number, b: number) => boolean,
    clock: readonly Int32Array[],
    chains: readonly number[][],
    onChain: (s: number, r: number) => boolean,
  ): void {
    const n = chains.length;
    const node = this.stack[d];
    const initials: Choice[] = [];
    const options: Choice[] = [
      ...node.labels.map((_, index) => ({ index, lose: false })),
      ...node.faults.map((fault) => ({ index: 0, lose: false, fault })),
    ];
    for (const option of options) {
      const k = stepOf.get(keyAt(node, option));
      if (k === undefined || k <= d || k > j || (k < j && before(d, k))) continue;
      // An initial of v: every event of v before k on any rank's chain is not in k's past.
      let initial = true;
      for (let r = 0; r < n && initial; r++) {
        const inPast = clock[k][r] - (onChain(k, r) ? 1 : 0);
        const chain = chains[r];
        const first = firstAfter(chain, d);
        if (first < inPast && !before(d, chain[first])) initial = false;
      }
      if (initial) initials.push({ ...option, lose: steps[k].choice.lose });
    }
    if (initials.length === 0 || initials.some((c) => node.backtrack.has(keyAt(node, c)))) return;
    node.backtrack.add(keyAt(node, initials[0]));
  }
}

/** The key of the choice a step took, without its loss: its event's label, or its fault's name. */
function takenKey(step: StepRecord): string {
  return step.choice.fault ? faultText(step.choice.fault) : eventLabel(step.events[step.choice.index]);
}

/** The choice key of `choice` at a step. */
function keyAt(node: Node, choice: Choice): string {
  if (choice.fault) return faultText(choice.fault);
  return `${node.labels[choice.index]}${choice.lose ? ' lost' : ''}`;
}

/** The sleep set after a step's current choice: what slept there or was explored there before it, and commutes with it. */
function childSleep(node: Node): Map<string, number> {
  const next = new Map<string, number>();
  // A fault commutes with nothing: every event wakes.
  if (node.taken.fault) return next;
  const taken = keyAt(node, node.taken);
  const rank = node.ranks[node.taken.index];
  const commutes = (r: number): boolean => rank >= 0 && r >= 0 && r !== rank;
  for (const [key, r] of node.sleep) if (commutes(r)) next.set(key, r);
  for (const key of node.done) {
    if (key === taken || node.faults.some((f) => faultText(f) === key)) continue;
    const r = node.ranks[node.labels.indexOf(key.endsWith(' lost') ? key.slice(0, -' lost'.length) : key)];
    if (commutes(r)) next.set(key, r);
  }
  return next;
}

/** The position in `chain` (ascending steps) of its first step after `step`. */
function firstAfter(chain: readonly number[], step: number): number {
  let lo = 0;
  let hi = chain.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (chain[mid] <= step) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
