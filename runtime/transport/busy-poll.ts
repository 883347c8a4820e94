/**
 * Busy polling while a rank waits for a message (dsrun --poll; DSMPI_POLL=1 in the rank's
 * environment). An idle Node.js process sleeps in epoll, and a message that lands must first wake it:
 * most of a small message's latency on loopback. While a receive waits, a chain of setImmediate
 * callbacks keeps the event loop turning instead; with an immediate pending, each turn polls the
 * sockets without blocking, so a frame is read as soon as it lands. It costs a core per waiting rank,
 * so dsrun turns it on only when the ranks do not outnumber the cores, and it is bounded: the chain
 * stops when nothing waits any more, or `budgetMs` after the last wait began, and the rank sleeps.
 */
export class BusyPoll {
  private spinning = false;
  private deadline = 0;

  /** `waiting`: whether a receive or probe of the rank still waits (Engine.waitingForMessage). */
  constructor(
    private readonly waiting: () => boolean,
    private readonly budgetMs = BUSY_POLL_BUDGET_MS,
  ) {}

  /** A wait began: poll until it ends, for at most `budgetMs` from now. */
  kick(): void {
    this.deadline = performance.now() + this.budgetMs;
    if (this.spinning) return;
    this.spinning = true;
    setImmediate(this.turn);
  }

  private readonly turn = (): void => {
    if (this.waiting() && performance.now() < this.deadline) setImmediate(this.turn);
    else this.spinning = false;
  };
}

/** How long a rank polls for a message before it sleeps until one comes. */
export const BUSY_POLL_BUDGET_MS = 20;
