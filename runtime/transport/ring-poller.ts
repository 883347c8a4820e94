import { BusyPoll, threadOffCoreClock, type PollTiming } from './busy-poll.ts';
import type { Doorbells } from './shared-ring.ts';

/** How long one turn of the event loop looks at the rings before it lets other events in. */
const SLICE_MS = 0.05;

/**
 * Time off its core between two turns that pauses a rank thread's polling. Longer than a process's
 * (BusyPoll's default, 0.5 ms): the ranks' own process runs other threads (V8's garbage collection
 * helpers, dsrun's main thread) that take a polling thread's core for a moment even on a machine
 * with nothing else to do, and a pause there turned a 8 µs round trip into 24–39 µs; a thread that
 * shares its core with another busy one loses it for whole time slices, longer than this.
 */
const THREAD_PREEMPTED_MS = 5;

/** A condition a spinning rank waits for (until), and what to tell its waiter. */
interface Watch {
  ready: () => boolean;
  settle: (held: boolean) => void;
}

/**
 * When a thread rank reads its shared-memory rings (runtime/transport/shared-ring.ts). While a
 * receive waits, or a condition on shared memory is watched (until: the world barrier's generation
 * word), the rank spins on BusyPoll's chain (busy-poll.ts, bounded by its budget): each turn of its
 * event loop looks at the rings and the watched conditions for up to SLICE_MS, so a frame is read
 * as soon as it is written, without a wake-up, and a barrier wait never leaves the rings unread.
 * Otherwise it sleeps, marked so in shared memory (Doorbells), and the next writer wakes it with a
 * message. A rank seen descheduled (its thread waited for a core between two turns) pauses its
 * spinning, for receives and watches alike, as a process does (BusyPoll): while it spins off its
 * core, the peer it waits for may be the thread that needs that core.
 */
export class RingPoller {
  private stopped = false;
  private waiting: () => boolean = () => false;
  private watches: Watch[] = [];
  private readonly poll: BusyPoll;
  private readonly closeClock: () => void;

  /**
   * `drain` delivers every frame there is to read, and says whether there was any. `timing`
   * (tests): BusyPoll's; by default its own but for the off-core clock, the calling thread's.
   */
  constructor(
    private readonly rank: number,
    private readonly bells: Doorbells,
    private readonly drain: () => boolean,
    timing?: PollTiming,
  ) {
    // After what the last turn delivered has run (it may begin another wait, which spins again).
    const stopped = (): void => {
      this.giveUp();
      setImmediate(this.settle);
    };
    const waiting = (): boolean => !this.stopped && (this.watches.length > 0 || this.waiting());
    const clock = timing ? { offCoreMs: timing.offCoreMs, close: () => {} } : threadOffCoreClock();
    this.closeClock = clock.close;
    this.poll = new BusyPoll(
      waiting,
      { preemptedMs: THREAD_PREEMPTED_MS, ...timing, offCoreMs: clock.offCoreMs },
      { turn: this.look, stopped },
    );
  }

  /** Starts reading: asleep until a frame comes or a wait begins. */
  start(): void {
    this.sleep();
  }

  /** `waiting`: whether a receive of the rank still waits for a message (Engine.waitingForMessage). */
  pollWhile(waiting: () => boolean): void {
    this.waiting = waiting;
  }

  /** A wait began: spin until it ends, for at most the budget from now (unless polling is paused). */
  kick(): void {
    if (!this.stopped && this.poll.kick()) this.bells.markAwake(this.rank);
  }

  /**
   * Spins until `ready()` holds (true), looking at the rings meanwhile; false if spinning stops first
   * or does not start (the budget from the last wait's start is spent, polling is paused, or the
   * transport stopped).
   */
  until(ready: () => boolean): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    return new Promise((settle) => {
      this.watches.push({ ready, settle });
      this.kick();
      // The first look right after the caller's own code, not a turn of the event loop later.
      if (this.watches.length === 1) queueMicrotask(this.firstLook);
    });
  }

  stop(): void {
    this.stopped = true;
    this.closeClock();
  }

  /** A watch's first look; with no chain to spin on, its waiter is told at once. */
  private readonly firstLook = (): void => {
    this.look();
    if (!this.poll.active) this.giveUp();
  };

  /** One turn of the chain: reads the rings until a frame comes or a watch holds, for at most SLICE_MS. */
  private readonly look = (): void => {
    const until = performance.now() + SLICE_MS;
    do {
      const read = this.drain();
      if (this.release() || read) return;
    } while (performance.now() < until);
  };

  /** Tells the waiters of the watches that hold; whether there were any. */
  private release(): boolean {
    let held = false;
    for (let i = this.watches.length - 1; i >= 0; i--) {
      const w = this.watches[i];
      if (!w.ready()) continue;
      this.watches.splice(i, 1);
      w.settle(true);
      held = true;
    }
    return held;
  }

  /** Spinning stopped: the watches left are told so (their waiters then wait for a message). */
  private giveUp(): void {
    const watches = this.watches;
    if (watches.length === 0) return;
    this.watches = [];
    for (const w of watches) w.settle(false);
  }

  private readonly settle = (): void => {
    if (!this.poll.active) this.sleep();
  };

  /**
   * Marks the rank asleep, looks once more, then sleeps until a writer wakes it (woken): a writer
   * either wrote before that last look or finds the mark.
   */
  private sleep(): void {
    if (this.stopped) return;
    this.bells.markAsleep(this.rank);
    if (this.drain()) {
      this.bells.markAwake(this.rank);
      setImmediate(this.settle);
    }
  }

  /** A writer found the rank asleep and woke it. */
  woken(): void {
    if (this.stopped) return;
    this.bells.markAwake(this.rank);
    this.drain();
    if (!this.poll.active) setImmediate(this.settle);
  }
}
