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

  constructor(scheduler: Scheduler, rank: number, alive: () => boolean) {
    this.scheduler = scheduler;
    this.rank = rank;
    this.alive = alive;
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
    );
    return () => {
      event.cancelled = true;
    };
  }
}

function noop(): void {}
