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
 * between two turns of the chain in which the process used no CPU shows that it was descheduled
 * (a gap it spent working, a garbage collection or a compilation, shows nothing): polling then
 * pauses, and the rank sleeps as it would without polling. The pause starts short (FIRST_PAUSE_MS),
 * since one preemption on an otherwise quiet machine is common, and doubles up to BACKOFF_MS while
 * the process keeps being descheduled soon after each pause.
 *
 * A thread rank's ring reader (ring-poller.ts) rides the same chain: `hooks.turn` looks at its rings
 * at every turn, and `hooks.stopped` puts it to sleep when the chain stops.
 */
export class BusyPoll {
  private spinning = false;
  private deadline = 0;
  private lastTurn = 0;
  /** The last reading of the CPU clock (cpuMs) and when it was taken. */
  private sampledAt = 0;
  private sampledCpu = 0;
  private pausedUntil = 0;
  private pauseMs = 0;

  private readonly budgetMs: number;
  private readonly preemptedMs: number;
  private readonly firstPauseMs: number;
  private readonly backoffMs: number;
  private readonly cpuMs: () => number;
  /** Whether it looks for descheduling at all (a thread rank's ring poller does not: preemptedMs Infinity). */
  private readonly watchesCore: boolean;

  /** `waiting`: whether a receive or probe of the rank still waits (Engine.waitingForMessage). */
  constructor(
    private readonly waiting: () => boolean,
    timing: { budgetMs?: number; preemptedMs?: number; firstPauseMs?: number; backoffMs?: number; cpuMs?: () => number } = {},
    private readonly hooks: { turn?: () => void; stopped?: () => void } = {},
  ) {
    this.budgetMs = timing.budgetMs ?? BUSY_POLL_BUDGET_MS;
    this.preemptedMs = timing.preemptedMs ?? PREEMPTED_MS;
    this.firstPauseMs = timing.firstPauseMs ?? FIRST_PAUSE_MS;
    this.backoffMs = timing.backoffMs ?? BACKOFF_MS;
    this.cpuMs = timing.cpuMs ?? processCpuMs;
    this.watchesCore = Number.isFinite(this.preemptedMs);
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
    // The process may have slept since the chain stopped: that is no sign of a shared core either.
    if (this.watchesCore) this.sample(now);
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
    if (this.watchesCore) this.watch(now);
    this.hooks.turn?.();
    this.lastTurn = performance.now();
    if (this.waiting() && now < this.deadline && now >= this.pausedUntil) {
      setImmediate(this.turn);
      return;
    }
    this.spinning = false;
    this.hooks.stopped?.();
  };

  /**
   * Pauses polling if the process was descheduled since the last turn. Reading the CPU clock is a
   * system call that sums every thread of the process, a few µs, longer than the rest of a turn: it
   * is read only after a gap long enough to matter, and once per SAMPLE_MS otherwise. The time the
   * process did not run is then counted from the last reading, at most SAMPLE_MS before the gap.
   */
  private watch(now: number): void {
    if (now - this.lastTurn > this.preemptedMs) {
      const sampledAt = this.sampledAt;
      const sampledCpu = this.sampledCpu;
      this.sample(now);
      if (now - sampledAt - (this.sampledCpu - sampledCpu) > this.preemptedMs) this.pauseFrom(now);
    } else if (now - this.sampledAt > SAMPLE_MS) {
      this.sample(now);
    }
  }

  private sample(now: number): void {
    this.sampledAt = now;
    this.sampledCpu = this.cpuMs();
  }

  /** The process was descheduled: pause, twice as long as last time if that pause ended lately. */
  private pauseFrom(now: number): void {
    const again = now - this.pausedUntil < this.pauseMs * 4;
    this.pauseMs = again ? Math.min(this.pauseMs * 2, this.backoffMs) : Math.min(this.firstPauseMs, this.backoffMs);
    this.pausedUntil = now + this.pauseMs;
  }
}

/** CPU time of the process (every thread), in ms. */
function processCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** A gap between two turns of the chain this much longer than the CPU used in it: the process was descheduled. */
const PREEMPTED_MS = 0.5;
/** The CPU clock is read at least this often while the chain turns. */
const SAMPLE_MS = 1;
/** How long polling pauses after one such gap. */
const FIRST_PAUSE_MS = 20;
/** The longest pause, while the process keeps being descheduled. */
const BACKOFF_MS = 500;
