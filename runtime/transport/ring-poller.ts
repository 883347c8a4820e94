import { BUSY_POLL_BUDGET_MS } from './busy-poll.ts';
import type { Doorbells } from './shared-ring.ts';

/** How long one turn of the event loop looks at the rings before it lets other events in. */
const SLICE_MS = 0.05;

/**
 * When a thread rank reads its shared-memory rings (runtime/transport/shared-ring.ts). While a
 * receive waits, the rank spins: each turn of its event loop (a setImmediate chain) looks at the
 * rings for up to SLICE_MS, so a frame is read as soon as it is written, without a wake-up. It spins
 * for at most BUSY_POLL_BUDGET_MS after a wait began; otherwise it sleeps, marked so in shared
 * memory (Doorbells), and the next writer wakes it with a message.
 */
export class RingPoller {
  private spinning = false;
  private deadline = 0;
  private stopped = false;
  private waiting: () => boolean = () => false;

  /** `drain` delivers every frame there is to read, and says whether there was any. */
  constructor(
    private readonly rank: number,
    private readonly bells: Doorbells,
    private readonly drain: () => boolean,
  ) {}

  /** Starts reading: asleep until a frame comes or a wait begins. */
  start(): void {
    this.sleep();
  }

  /** `waiting`: whether a receive of the rank still waits for a message (Engine.waitingForMessage). */
  pollWhile(waiting: () => boolean): void {
    this.waiting = waiting;
  }

  /** A wait began: spin until it ends, for at most the budget from now. */
  kick(): void {
    this.deadline = performance.now() + BUSY_POLL_BUDGET_MS;
    if (this.spinning || this.stopped) return;
    this.spinning = true;
    this.bells.markAwake(this.rank);
    setImmediate(this.turn);
  }

  stop(): void {
    this.stopped = true;
  }

  private readonly turn = (): void => {
    if (this.stopped) return;
    let got = this.drain();
    if (!got) {
      const until = performance.now() + SLICE_MS;
      while (!got && performance.now() < until) got = this.drain();
    }
    if (this.waiting() && performance.now() < this.deadline) {
      setImmediate(this.turn);
      return;
    }
    this.spinning = false;
    // After what was delivered has run (it may begin another wait, which spins again).
    setImmediate(this.settle);
  };

  private readonly settle = (): void => {
    if (!this.spinning) this.sleep();
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
    if (!this.spinning) setImmediate(this.settle);
  }
}
