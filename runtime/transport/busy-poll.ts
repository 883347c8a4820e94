import { BUSY_POLL_BUDGET_MS } from '../protocol/rendezvous.ts';

/**
 * Busy polling while a rank waits for a message (dsrun --poll; DSMPI_POLL=1 in the rank's
 * environment). An idle Node.js process sleeps in epoll, and a message that lands must first wake it:
 * most of a small message's latency on loopback. While a receive waits, a chain of setImmediate
 * callbacks keeps the event loop turning instead; with an immediate pending, each turn polls the
 * sockets without blocking, so a frame is read as soon as it lands. It costs a core per waiting rank,
 * so dsrun turns it on only when the ranks do not outnumber the cores, and it is bounded: the chain
 * stops when nothing waits any more, or `budgetMs` after the last wait began, and the rank sleeps.
 *
 * A polling process that has to share its core is worse off than a sleeping one: the scheduler
 * favours a process that wakes from sleep, but a poller runs only in turn with every other runnable
 * process, so its peer's answer waits for time slices (milliseconds instead of microseconds). A gap
 * between two turns of the chain shows that the process was descheduled: polling then pauses for
 * a while (BACKOFF_MS), and the rank sleeps as it would without polling.
 *
 * A thread rank's ring reader (ring-poller.ts) rides the same chain: `hooks.turn` looks at its rings
 * at every turn, and `hooks.stopped` puts it to sleep when the chain stops.
 */
export class BusyPoll {
  private spinning = false;
  private deadline = 0;
  private lastTurn = 0;
  private pausedUntil = 0;

  private readonly budgetMs: number;
  private readonly preemptedMs: number;
  private readonly backoffMs: number;

  /** `waiting`: whether a receive or probe of the rank still waits (Engine.waitingForMessage). */
  constructor(
    private readonly waiting: () => boolean,
    timing: { budgetMs?: number; preemptedMs?: number; backoffMs?: number } = {},
    private readonly hooks: { turn?: () => void; stopped?: () => void } = {},
  ) {
    this.budgetMs = timing.budgetMs ?? BUSY_POLL_BUDGET_MS;
    this.preemptedMs = timing.preemptedMs ?? PREEMPTED_MS;
    this.backoffMs = timing.backoffMs ?? BACKOFF_MS;
  }

  /**
   * A wait began: poll until it ends, for at most `budgetMs` from now. Returns whether the chain
   * runs (false while polling is paused).
   */
  kick(): boolean {
    const now = performance.now();
    this.deadline = now + this.budgetMs;
    // The program's own work up to here is no sign of a shared core.
    this.lastTurn = now;
    if (this.spinning) return true;
    if (now < this.pausedUntil) return false;
    this.spinning = true;
    setImmediate(this.turn);
    return true;
  }

  /** Whether the chain runs. */
  get active(): boolean {
    return this.spinning;
  }

  /** Whether polling is paused because the process was seen sharing its core. */
  get paused(): boolean {
    return performance.now() < this.pausedUntil;
  }

  private readonly turn = (): void => {
    const now = performance.now();
    if (now - this.lastTurn > this.preemptedMs) this.pausedUntil = now + this.backoffMs;
    this.hooks.turn?.();
    this.lastTurn = performance.now();
    if (this.waiting() && now < this.deadline && now >= this.pausedUntil) {
      setImmediate(this.turn);
      return;
    }
    this.spinning = false;
    this.hooks.stopped?.();
  };
}

/** A gap this long between two turns of the chain: the process was descheduled (or busy). */
const PREEMPTED_MS = 0.5;
/** How long polling pauses after such a gap. */
const BACKOFF_MS = 500;
