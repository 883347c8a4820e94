import { ErrorCode } from '../errors.ts';
import { msToUs } from './faults.ts';
import { settle, type Scheduler } from './scheduler.ts';
import type { Fail } from './sim-error.ts';

/** What the driver watches of a run. */
export interface DrivenRun {
  /** Every rank has finished, crashed for good or retired. */
  finished(): boolean;
  /** The run has failed (a rank's error or abort, or the driver's own verdict). */
  failed(): boolean;
  fail: Fail;
}

export interface DriverLimits {
  timeLimitMs: number;
  maxSteps: number;
  /** Checked after every event, once the ranks have reacted to it (SimulateOptions.afterEvent). */
  afterEvent?: () => void;
}

/**
 * The simulation's event loop: lets the ranks react to the last event (their promise jobs run), then
 * runs the next one the scheduler's chooser picks, until every rank is done or the run fails: an
 * invariant broken, no event left while ranks wait (deadlock), the next event past the time limit,
 * or too many events (a livelock).
 */
export async function drive(scheduler: Scheduler, run: DrivenRun, limits: DriverLimits): Promise<void> {
  const limitUs = msToUs(limits.timeLimitMs);
  for (;;) {
    await settle();
    if (limits.afterEvent && !run.failed()) {
      try {
        limits.afterEvent();
      } catch (err) {
        run.fail(ErrorCode.Invariant, 'invariant broken', err instanceof Error ? err.message : String(err), undefined, err);
      }
    }
    if (run.failed()) return;
    if (run.finished()) return;
    const next = scheduler.nextTimeUs();
    if (next === undefined) {
      run.fail(ErrorCode.Deadlock, 'deadlock', 'no event is left to run, yet ranks wait');
      return;
    }
    if (next > limitUs) {
      run.fail(ErrorCode.TimeLimit, 'time limit', `the next event is at ${next / 1000} ms, past timeLimitMs ${limits.timeLimitMs}`);
      return;
    }
    if (scheduler.steps >= limits.maxSteps) {
      run.fail(ErrorCode.TimeLimit, 'step limit', `${limits.maxSteps} events run (maxSteps); a livelock?`);
      return;
    }
    scheduler.step();
  }
}
