/**
 * The job's timers (--timeout, faults, pauses, the kill grace period). Once cleared, when the job
 * has ended, none is set any more. They do not keep dsrun alive: the ranks and the coordinator do
 * while the job runs.
 */
export class JobTimers {
  private readonly timers = new Set<NodeJS.Timeout>();
  private cleared = false;

  /** Runs `fn` at epoch ms `time` by `clock`, never before: Node timers may fire a fraction of a millisecond early. */
  at(time: number, clock: () => number, fn: () => void): void {
    const left = time - clock();
    if (left > 0) this.after(Math.ceil(left), () => this.at(time, clock, fn));
    else fn();
  }

  after(ms: number, fn: () => void): void {
    if (this.cleared) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms).unref();
    this.timers.add(timer);
  }

  clear(): void {
    this.cleared = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
