import { BusyPoll } from './busy-poll.ts';
import type { Doorbells } from './shared-ring.ts';

/** How long one turn of the event loop looks at the rings before it lets other events in. */
const SLICE_MS = 0.05;

/**
 * When a thread rank reads its shared-memory rings (runtime/transport/shared-ring.ts). While a
 * receive waits, the rank spins on BusyPoll's chain (busy-poll.ts, bounded by its budget): each
 * turn of its event loop looks at the rings for up to SLICE_MS, so a frame is read as soon as it is
 * written, without a wake-up. Otherwise it sleeps, marked so in shared memory (Doorbells), and the
 * next writer wakes it with a message.
 */
export class RingPoller {
  private stopped = false;
  private waiting: () => boolean = () => false;
  private readonly poll: BusyPoll;

  /** `drain` delivers every frame there is to read, and says whether there was any. */
  constructor(
    private readonly rank: number,
    private readonly bells: Doorbells,
    private readonly drain: () => boolean,
  ) {
    // After what the last turn delivered has run (it may begin another wait, which spins again).
    const stopped = (): void => void setImmediate(this.settle);
    // No pause when descheduled: waking a sleeping thread (a MessagePort post) is slow enough that
    // spinning answers sooner even on a loaded machine, unlike a process's socket wake-up.
    this.poll = new BusyPoll(() => !this.stopped && this.waiting(), { preemptedMs: Infinity }, { turn: this.look, stopped });
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

  stop(): void {
    this.stopped = true;
  }

  /** One turn of the chain: reads the rings until a frame comes, for at most SLICE_MS. */
  private readonly look = (): void => {
    if (this.drain()) return;
    const until = performance.now() + SLICE_MS;
    while (performance.now() < until) if (this.drain()) return;
  };

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
