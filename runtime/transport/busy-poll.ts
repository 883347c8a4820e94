import { Buffer } from 'node:buffer';
import { closeSync, openSync, readSync } from 'node:fs';
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
 * between the starts of two turns of the chain in which the poller was off its core shows that it
 * was descheduled (a gap it spent working, a garbage collection or a compilation, shows nothing):
 * polling then pauses, and the rank sleeps as it would without polling. The pause starts short
 * (FIRST_PAUSE_MS), since one preemption on an otherwise quiet machine is common, and doubles up to
 * BACKOFF_MS while the poller keeps being descheduled soon after each pause.
 *
 * A thread rank's ring reader (ring-poller.ts) rides the same chain: `hooks.turn` looks at its rings
 * at every turn (most of the turn's time, so a preemption during it counts too), and `hooks.stopped`
 * puts it to sleep when the chain stops. Its off-core clock is its own thread's (threadOffCoreMs):
 * the process's CPU clock sums every thread, and a rank thread that lost its core to a sibling rank
 * would see the sibling's CPU time and take the gap for work.
 */
export class BusyPoll {
  private spinning = false;
  private deadline = 0;
  /** When the last turn began (or the last wait, if later). */
  private lastTurn = 0;
  /** The last reading of the off-core clock (offCoreMs) and when it was taken. */
  private sampledAt = 0;
  private sampledOffCore = 0;
  private pausedUntil = 0;
  private pauseMs = 0;

  private readonly budgetMs: number;
  private readonly preemptedMs: number;
  private readonly firstPauseMs: number;
  private readonly backoffMs: number;
  private readonly offCoreMs: () => number;
  private readonly nowMs: () => number;
  /** Whether it looks for descheduling at all (not with preemptedMs Infinity). */
  private readonly watchesCore: boolean;

  /** `waiting`: whether a receive or probe of the rank still waits (Engine.waitingForMessage). */
  constructor(
    private readonly waiting: () => boolean,
    timing: PollTiming = {},
    private readonly hooks: { turn?: () => void; stopped?: () => void } = {},
  ) {
    this.budgetMs = timing.budgetMs ?? BUSY_POLL_BUDGET_MS;
    this.preemptedMs = timing.preemptedMs ?? PREEMPTED_MS;
    this.firstPauseMs = timing.firstPauseMs ?? FIRST_PAUSE_MS;
    this.backoffMs = timing.backoffMs ?? BACKOFF_MS;
    this.offCoreMs = timing.offCoreMs ?? processOffCoreMs;
    this.nowMs = timing.nowMs ?? (() => performance.now());
    this.watchesCore = Number.isFinite(this.preemptedMs);
  }

  /**
   * A wait began: poll until it ends, for at most `budgetMs` from now. Returns whether the chain
   * runs (false while polling is paused).
   */
  kick(): boolean {
    const now = this.nowMs();
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
    return this.nowMs() < this.pausedUntil;
  }

  private readonly turn = (): void => {
    const now = this.nowMs();
    if (this.watchesCore) this.watch(now);
    this.lastTurn = now;
    this.hooks.turn?.();
    if (this.waiting() && now < this.deadline && now >= this.pausedUntil) {
      setImmediate(this.turn);
      return;
    }
    this.spinning = false;
    this.hooks.stopped?.();
  };

  /**
   * Pauses polling if the poller was descheduled since the last turn began. Reading the off-core
   * clock is a system call, a few µs, longer than the rest of a turn without a hook: it is read only
   * after a gap long enough to matter, and once per SAMPLE_MS otherwise. The time off the core is
   * then counted from the last reading, at most SAMPLE_MS before the gap.
   */
  private watch(now: number): void {
    if (now - this.lastTurn > this.preemptedMs) {
      const before = this.sampledOffCore;
      this.sample(now);
      if (this.sampledOffCore - before > this.preemptedMs) this.pauseFrom(now);
    } else if (now - this.sampledAt > SAMPLE_MS) {
      this.sample(now);
    }
  }

  private sample(now: number): void {
    this.sampledAt = now;
    this.sampledOffCore = this.offCoreMs();
  }

  /** The process was descheduled: pause, twice as long as last time if that pause ended lately. */
  private pauseFrom(now: number): void {
    const again = now - this.pausedUntil < this.pauseMs * 4;
    this.pauseMs = again ? Math.min(this.pauseMs * 2, this.backoffMs) : Math.min(this.firstPauseMs, this.backoffMs);
    this.pausedUntil = now + this.pauseMs;
  }
}

/** What BusyPoll's timing can be given (defaults below; tests set them). */
export interface PollTiming {
  /** How long after the last wait began the chain stops. */
  budgetMs?: number;
  /** A gap longer than this, spent off the core, pauses polling (Infinity: never). */
  preemptedMs?: number;
  firstPauseMs?: number;
  backoffMs?: number;
  /**
   * A clock of the time the poller spent off its core though it could run (descheduled), in ms: it
   * stands still while the poller runs. Default: the process's (processOffCoreMs).
   */
  offCoreMs?: () => number;
  /** The wall clock, in ms (default performance.now). */
  nowMs?: () => number;
}

/** The process's time off its cores: wall time less the CPU time of every thread of the process, in ms. */
export function processOffCoreMs(): number {
  const { user, system } = process.cpuUsage();
  return performance.now() - (user + system) / 1000;
}

/**
 * The calling thread's own off-core clock where the system keeps one (Linux: the time it waited
 * runnable for a core, the second field of /proc/thread-self/schedstat, read through a file the
 * thread opens here), else the process's (processOffCoreMs), which sees less: another thread's CPU
 * time hides this one's gaps. To be made by the thread it is for; `close` lets the file go (the
 * clock then stands still).
 */
export function threadOffCoreClock(): { offCoreMs: () => number; close(): void } {
  let fd: number | undefined;
  try {
    fd = openSync('/proc/thread-self/schedstat', 'r');
  } catch {
    return { offCoreMs: processOffCoreMs, close: () => {} };
  }
  const text = Buffer.alloc(64);
  // Fields: time on the CPU, time waiting for one, time slices; in ns.
  const fields = (at: number): number[] =>
    text
      .toString('latin1', 0, readSync(at, text, 0, text.length, 0))
      .split(' ')
      .map(Number);
  const [ranNs, waitedNs] = fields(fd);
  // A kernel that keeps no scheduler statistics prints zeros.
  if (!(ranNs > 0) || !Number.isFinite(waitedNs)) {
    closeSync(fd);
    return { offCoreMs: processOffCoreMs, close: () => {} };
  }
  let last = waitedNs / 1e6;
  return {
    offCoreMs: () => (fd === undefined ? last : (last = fields(fd)[1] / 1e6)),
    close: () => {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

/** A gap between the starts of two turns of the chain with this much time off the core: the poller was descheduled. */
const PREEMPTED_MS = 0.5;
/** The off-core clock is read at least this often while the chain turns. */
const SAMPLE_MS = 1;
/** How long polling pauses after one such gap. */
const FIRST_PAUSE_MS = 20;
/** The longest pause, while the poller keeps being descheduled. */
const BACKOFF_MS = 500;
