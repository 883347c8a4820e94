/**
 * A deadline counted in the time this event loop could run, not in wall-clock time: it expires
 * after TICKS turns of a short timer, each started when the previous one ran. A loop that was
 * blocked or starved of CPU (a launcher spawning a big job on a loaded machine) counts that stretch
 * as one tick, so when it runs again it first reads what waited for it instead of timing it out:
 * the timers of a turn run before its I/O, and a wall-clock deadline would expire then. On a loop
 * that runs freely it is the plain deadline, a tick late at most.
 */
const TICKS = 20;

export interface RunningDeadline {
  cancel(): void;
}

/** Calls `expire` once this loop has been able to run for `ms`, unless cancelled first. */
export function runningDeadline(ms: number, expire: () => void): RunningDeadline {
  const tick = ms / TICKS;
  let left = TICKS;
  let timer: NodeJS.Timeout;
  const next = (): void => {
    timer = setTimeout(() => {
      left -= 1;
      if (left === 0) expire();
      else next();
    }, tick);
  };
  next();
  return { cancel: () => clearTimeout(timer) };
}
