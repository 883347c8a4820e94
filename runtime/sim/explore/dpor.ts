import { DsError, ErrorCode } from '../../errors.ts';
import { eventLabel, type SimEvent } from '../event-queue.ts';
import type { Choice } from './schedule.ts';
import { choiceKey, touched, type ExecutionPlan, type StepRecord, type Strategy } from './strategies.ts';

/** One step of the current execution as the search keeps it: what was offered, explored and asleep there. */
interface Node {
  /** The enabled events' labels, in the simulator's order, and the rank each touches (−1: every rank). */
  labels: string[];
  ranks: number[];
  losable: boolean[];
  /** The sleep set on reaching this step: choice key → the rank it touches. */
  sleep: Map<string, number>;
  /** Choices to explore here (choice keys), and those explored (the current one last). */
  backtrack: Set<string>;
  done: Set<string>;
  taken: Choice;
  /** Losses spent before this step, and deviations (a delay of i costs i, a loss 1). */
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
 */
export class Dpor implements Strategy {
  readonly name: string;
  exhausted = false;
  /** With deepening: executions in each round of 0, 1, … deviations at a backtrack point (0: no choice of that cost). */
  readonly rounds: number[] = [];
  /** The current round's bound on the deviations of a backtrack choice (Infinity without deepening). */
  private bound: number;
  /** The least cost of a choice the current round left for a later one. */
  private deferred = Infinity;
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
  ) {
    this.bound = deepening ? 0 : Infinity;
    this.name = `dpor (source sets, sleep sets${deepening ? ', rounds of deviations' : ''}), ≤${drops} drops`;
  }

  next(): ExecutionPlan | undefined {
    if (this.exhausted) return undefined;
    const stack = this.stack;
    const creators: number[] = (this.creators = []);
    const offered: string[][] = (this.offered = []);
    let sleep = new Map<string, number>();
    let drops = 0;
    let cost = 0;
    if (this.deepening) {
      while (this.rounds.length <= this.bound) this.rounds.push(0);
      this.rounds[this.bound]++;
    }
    return {
      causal: true,
      choose: (step, enabled, causedBy) => {
        offered[step] = enabled.map(eventLabel);
        let node = stack[step];
        let index: number;
        if (node) {
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
          // Every enabled event asleep: every execution on from here is equivalent to one already run.
          if (index < 0) return undefined;
          node = {
            labels: offered[step],
            ranks: enabled.map(this.touches),
            losable: enabled.map((e) => e.lose !== undefined),
            sleep,
            backtrack: new Set(),
            done: new Set(),
            taken: { index, lose: false },
            dropsBefore: drops,
            costBefore: cost,
          };
          stack.push(node);
          this.take(node, node.taken);
        }
        const choice = node.taken;
        creators[step] = causedBy!(enabled[index]);
        drops += Number(choice.lose);
        cost += index + Number(choice.lose);
        sleep = childSleep(node);
        return { index, lose: choice.lose };
      },
    };
  }

  done(steps: readonly StepRecord[]): void {
    const stack = this.stack;
    stack.length = steps.length;
    this.addDisabled(steps.length);
    this.addRaces(steps);
    for (let b = stack.length - 1; b >= 0; b--) {
      const node = stack[b];
      const choice = this.pending(node);
      if (!choice) continue;
      stack.length = b + 1;
      node.taken = choice;
      this.take(node, choice);
      return;
    }
    // A round that left choices beyond its bound: the next round, from the start, bounded by the cheapest of them.
    if (this.deferred < Infinity) {
      this.bound = this.deferred;
      this.deferred = Infinity;
      stack.length = 0;
    } else {
      this.exhausted = true;
    }
  }

  /**
   * The first choice in the search's order (each index delivered, then lost) to explore at a step:
   * in its backtrack set, neither explored nor asleep, and within the round's bound (else left for
   * a later round).
   */
  private pending(node: Node): Choice | undefined {
    for (let index = 0; index < node.labels.length; index++)
      for (const lose of [false, true]) {
        const key = keyAt(node, { index, lose });
        if (!node.backtrack.has(key) || node.done.has(key) || node.sleep.has(key)) continue;
        const cost = node.costBefore + index + Number(lose);
        if (cost <= this.bound) return { index, lose };
        this.deferred = Math.min(this.deferred, cost);
      }
    return undefined;
  }

  /** Explores `choice` at `node`; a delivery that may be lost is explored both ways there, within the loss budget. */
  private take(node: Node, choice: Choice): void {
    const key = keyAt(node, choice);
    node.backtrack.add(key);
    node.done.add(key);
    if (node.losable[choice.index] && node.dropsBefore < this.drops)
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
        if (index !== node.taken.index && !after.has(label)) node.backtrack.add(keyAt(node, { index, lose: false }));
      });
    }
  }

  /** Source-DPOR's backtrack points for every race of the execution just run. */
  private addRaces(steps: readonly StepRecord[]): void {
    const n = Math.max(1, this.n);
    const length = steps.length;
    const rank = steps.map((s) => this.touches(s.events[s.choice.index]));
    const stepOf = new Map<string, number>();
    for (let s = 0; s < length; s++) stepOf.set(eventLabel(steps[s].events[steps[s].choice.index]), s);
    // Vector clocks over ranks: clock[s][r] counts rank r's events that happen before or at step s.
    // A fault (rank −1) is an event of every rank.
    const clock: Int32Array[] = [];
    const count = new Int32Array(n);
    const last = new Int32Array(n).fill(-1);
    /** Per rank, its steps in order (a fault's on every rank). */
    const chains: number[][] = Array.from({ length: n }, () => []);
    /** The last step before each step that it depends on (−1: none). */
    const dependent = new Int32Array(length).fill(-1);
    for (let s = 0; s < length; s++) {
      const vc = new Int32Array(n);
      const join = (other: number): void => {
        if (other < 0) return;
        const o = clock[other];
        for (let r = 0; r < n; r++) if (o[r] > vc[r]) vc[r] = o[r];
      };
      join(this.creators[s] ?? -1);
      const own = rank[s] >= 0 && rank[s] < n ? [rank[s]] : [...Array(n).keys()];
      dependent[s] = own.length === 1 ? last[own[0]] : s - 1;
      for (const r of own) join(last[r]);
      for (const r of own) {
        vc[r] = ++count[r];
        last[r] = s;
        chains[r].push(s);
      }
      clock[s] = vc;
    }
    const chainOf = (s: number): number => (rank[s] >= 0 && rank[s] < n ? rank[s] : 0);
    /** Whether step a happens before step b (or is b). */
    const before = (a: number, b: number): boolean => b >= 0 && clock[b][chainOf(a)] >= clock[a][chainOf(a)];
    const onChain = (s: number, r: number): boolean => rank[s] === r || !(rank[s] >= 0 && rank[s] < n);
    for (let j = 0; j < length; j++) {
      const d = dependent[j];
      if (d < 0 || before(d, this.creators[j] ?? -1)) continue;
      // A race: j could have gone before d. v = the events after d that d does not happen before, then j.
      const node = this.stack[d];
      const initials: Choice[] = [];
      for (let index = 0; index < node.labels.length; index++) {
        const k = stepOf.get(node.labels[index]);
        if (k === undefined || k <= d || k > j || (k < j && before(d, k))) continue;
        // An initial of v: every event of v before k on any rank's chain is not in k's past.
        let initial = true;
        for (let r = 0; r < n && initial; r++) {
          const inPast = clock[k][r] - (onChain(k, r) ? 1 : 0);
          const chain = chains[r];
          const first = firstAfter(chain, d);
          if (first < inPast && !before(d, chain[first])) initial = false;
        }
        if (initial) initials.push({ index, lose: steps[k].choice.lose });
      }
      if (initials.length === 0 || initials.some((c) => node.backtrack.has(keyAt(node, c)))) continue;
      node.backtrack.add(keyAt(node, initials[0]));
    }
  }
}

/** The choice key of `choice` at a step. */
function keyAt(node: Node, choice: Choice): string {
  return `${node.labels[choice.index]}${choice.lose ? ' lost' : ''}`;
}

/** The sleep set after a step's current choice: what slept there or was explored there before it, and commutes with it. */
function childSleep(node: Node): Map<string, number> {
  const taken = keyAt(node, node.taken);
  const rank = node.ranks[node.taken.index];
  const commutes = (r: number): boolean => rank >= 0 && r >= 0 && r !== rank;
  const next = new Map<string, number>();
  for (const [key, r] of node.sleep) if (commutes(r)) next.set(key, r);
  for (const key of node.done) {
    if (key === taken) continue;
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
