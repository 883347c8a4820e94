import { EventQueue, type EventId, type SimEvent } from './event-queue.ts';

/**
 * The driver's one choice: which event runs next. It removes that event from the queue and returns
 * it (undefined when the queue is empty). The simulator takes the earliest, by time and then by
 * scheduling order; a systematic explorer of schedules would pass its own.
 */
export type EventChooser = (queue: EventQueue, scheduler: Scheduler) => SimEvent | undefined;

/** The simulator's choice: the earliest event, ties in the order they were scheduled. */
export const earliestFirst: EventChooser = (queue) => queue.pop();

/**
 * The simulation's one source of time and order: a queue of events in virtual time. Time moves only
 * when an event runs, straight to that event's time, so long timeouts cost nothing. Events at one
 * time run in the order they were scheduled; all randomness is drawn by callers from the seed.
 */
export class Scheduler {
  /** Current virtual time in microseconds. */
  nowUs = 0;
  /** Events run so far. */
  steps = 0;
  private seq = 0;
  private readonly queue = new EventQueue();
  private readonly paused = new Set<number>();
  private readonly held = new Map<number, SimEvent[]>();
  private readonly choose: EventChooser;
  /** With per-rank clocks: the rank an event belongs to (−1: none, e.g. a fault), and each rank's time. */
  private readonly ownerOf: ((e: SimEvent) => number) | undefined;
  private readonly rankNowUs = new Map<number, number>();
  /**
   * With per-rank clocks: the latest time any event ran at; the time of the last fault, below which
   * no rank's clock goes after it (a fault touches every rank: a crash notice or a restart runs a
   * rank's code at it); and the rank whose event ran last (−1: a fault).
   */
  private latestUs = 0;
  private floorUs = 0;
  private running = -1;

  /**
   * `ownerOf` gives each rank its own clock: an event of a rank runs at the later of its time and
   * that rank's clock, not of every event run before it. Events taken in time order (the simulator's
   * own choice) run at the same times either way; an explorer that takes a later event first then
   * leaves the other ranks' times alone, so events of different ranks commute exactly (explore.ts).
   */
  constructor(choose: EventChooser = earliestFirst, ownerOf?: (e: SimEvent) => number) {
    this.choose = choose;
    this.ownerOf = ownerOf;
  }

  get nowMs(): number {
    return this.nowUs / 1000;
  }

  /** Schedules `run` at virtual time `timeUs` (never in the past). */
  at(timeUs: number, run: () => void, heldByPauseOf?: number, id?: EventId): SimEvent {
    const event: SimEvent = { timeUs: Math.max(timeUs, this.nowUs), seq: this.seq++, heldByPauseOf, id, run };
    this.queue.push(event);
    return event;
  }

  after(delayUs: number, run: () => void, heldByPauseOf?: number, id?: EventId): SimEvent {
    return this.at(this.nowUs + delayUs, run, heldByPauseOf, id);
  }

  isPaused(rank: number): boolean {
    return this.paused.has(rank);
  }

  /** From now on the rank's timers and deliveries wait until resume(). */
  pause(rank: number): void {
    this.paused.add(rank);
  }

  /** Puts everything held for the rank back, at the current time and in its original order. */
  resume(rank: number): void {
    this.paused.delete(rank);
    const held = this.held.get(rank);
    this.held.delete(rank);
    for (const e of held ?? []) {
      // The same object, so a timer cancelled while held stays cancelled.
      e.timeUs = this.nowUs;
      e.seq = this.seq++;
      this.queue.push(e);
    }
  }

  /** Time of the next event that will run, or undefined if there is none. */
  nextTimeUs(): number | undefined {
    for (;;) {
      const e = this.queue.peek();
      if (!e) return undefined;
      if (e.cancelled) {
        this.queue.pop();
        continue;
      }
      return e.timeUs;
    }
  }

  /** Runs the event the chooser picks (holding back those of paused ranks); false when the queue is empty. */
  step(): boolean {
    for (;;) {
      const e = this.choose(this.queue, this);
      if (!e) return false;
      if (e.cancelled) continue;
      // A chooser may run an event before its drawn time, never before now.
      if (!this.ownerOf) this.nowUs = Math.max(this.nowUs, e.timeUs);
      if (e.heldByPauseOf !== undefined && this.paused.has(e.heldByPauseOf)) {
        const list = this.held.get(e.heldByPauseOf) ?? [];
        list.push(e);
        this.held.set(e.heldByPauseOf, list);
        continue;
      }
      // With per-rank clocks, never before its rank's now.
      if (this.ownerOf) this.nowUs = this.clockFor(e);
      this.steps++;
      e.run();
      return true;
    }
  }

  /** Per-rank clocks: files the time the last event's rank reached, and gives `e` its rank's time. */
  private clockFor(e: SimEvent): number {
    // The previous event's rank has reacted to it (its promise jobs ran at `nowUs`): keep its clock.
    if (this.running >= 0) this.rankNowUs.set(this.running, this.nowUs);
    else this.floorUs = this.nowUs;
    this.latestUs = Math.max(this.latestUs, this.nowUs);
    const owner = this.ownerOf!(e);
    this.running = owner;
    // An event of no rank (a fault) happens after everything run so far.
    return Math.max(owner >= 0 ? Math.max(this.rankNowUs.get(owner) ?? 0, this.floorUs) : this.latestUs, e.timeUs);
  }
}

/**
 * Lets every promise job queued so far (and those they queue) run: ranks' async code continues in
 * microtasks, and must finish reacting to one event before the next is chosen.
 */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
