import type { Clock } from '../clock.ts';
import type { Scheduler } from './scheduler.ts';

/**
 * One rank's clock in a simulation (one per incarnation of the rank). Timers are scheduler events:
 * they fire in virtual time, wait while the rank is paused, and never fire once this incarnation has
 * crashed.
 */
export class VirtualClock implements Clock {
  private readonly scheduler: Scheduler;
  private readonly rank: number;
  private readonly alive: () => boolean;
  private readonly inc: number;
  /** Timers set so far: a timer's identity is (rank, incarnation, k). */
  private timers = 0;

  constructor(scheduler: Scheduler, rank: number, alive: () => boolean, inc = 0) {
    this.scheduler = scheduler;
    this.rank = rank;
    this.alive = alive;
    this.inc = inc;
  }

  now(): number {
    return this.scheduler.nowMs;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.setTimer(ms, resolve);
    });
  }

  setTimer(ms: number, fn: () => void): () => void {
    // An infinite wait never fires; NaN and negatives fire at once, as setTimeout does.
    if (!this.alive() || ms === Infinity) return noop;
    // Rounded up, so a positive wait always lets time move on (a deadline loop cannot spin).
    const delayUs = ms > 0 ? Math.ceil(ms * 1000) : 0;
    const event = this.scheduler.after(
      delayUs,
      () => {
        if (this.alive()) fn();
      },
      this.rank,
      { kind: 'timer', rank: this.rank, inc: this.inc, k: this.timers++ },
    );
    return () => {
      event.cancelled = true;
    };
  }
}

function noop(): void {}
