/**
 * Lamport's scalar logical clock (book 3.2.1). Pure functions over a number, plus a small mutable
 * wrapper. The rule (the correct one, not the book's worked slips):
 *   - local event or send: tick, t := t + 1; a send carries the new t;
 *   - receive of a message stamped m: t := max(t, m) + 1.
 * So a send's timestamp is always smaller than its receive's (the clock condition).
 */

/** The time after a local event or a send. */
export function lamportTick(t: number): number {
  return t + 1;
}

/** The time after receiving a message stamped `stamp`: max, then tick. */
export function lamportReceive(t: number, stamp: number): number {
  return Math.max(t, stamp) + 1;
}

/** A process's Lamport clock. Starts at 0 (no event yet). */
export class LamportClock {
  constructor(public time = 0) {}

  /** A local event: returns its timestamp. */
  tick(): number {
    this.time = lamportTick(this.time);
    return this.time;
  }

  /** A send: returns the stamp the message carries. */
  send(): number {
    return this.tick();
  }

  /** A receive of a message stamped `stamp`: returns the receive event's timestamp. */
  receive(stamp: number): number {
    this.time = lamportReceive(this.time, stamp);
    return this.time;
  }

  /** Merges in a stamp without counting an event (for state merges that are not events). */
  witness(stamp: number): void {
    this.time = Math.max(this.time, stamp);
  }
}
