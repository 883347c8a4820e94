/**
 * Vector clocks (book 3.2.2). A vector clock of n processes is a plain number[] of length n (plain
 * data: it travels in messages as is). Process i's rules:
 *   - local event or send: v[i] += 1; a send carries a copy of v;
 *   - receive of a message stamped m: v := max(v, m) element-wise, then v[i] += 1.
 * Only one's own slot is incremented (the book's P2 example increments P1's slot by mistake).
 */

export type VectorTime = number[];

/** Order of two vector times. */
export type Causality = 'before' | 'after' | 'equal' | 'concurrent';

export function vectorZero(n: number): VectorTime {
  return new Array<number>(n).fill(0);
}

/** The time after a local event or a send at process `i`. */
export function vectorTick(v: VectorTime, i: number): VectorTime {
  checkIndex(v, i);
  const out = v.slice();
  out[i] += 1;
  return out;
}

/** Element-wise maximum (the join of the two times). */
export function vectorMerge(a: VectorTime, b: VectorTime): VectorTime {
  checkLengths(a, b);
  return a.map((x, k) => Math.max(x, b[k]));
}

/** The time at process `i` after receiving a message stamped `stamp`: merge, then tick. */
export function vectorReceive(v: VectorTime, stamp: VectorTime, i: number): VectorTime {
  return vectorTick(vectorMerge(v, stamp), i);
}

/** How `a` relates to `b`: 'before' means a happened-before b. */
export function compareVectors(a: VectorTime, b: VectorTime): Causality {
  checkLengths(a, b);
  let less = false;
  let greater = false;
  for (let k = 0; k < a.length; k++) {
    if (a[k] < b[k]) less = true;
    else if (a[k] > b[k]) greater = true;
  }
  if (less && greater) return 'concurrent';
  if (less) return 'before';
  if (greater) return 'after';
  return 'equal';
}

/** a → b: a happened-before b. */
export function happensBefore(a: VectorTime, b: VectorTime): boolean {
  return compareVectors(a, b) === 'before';
}

/** a ∥ b: neither happened before the other. */
export function concurrent(a: VectorTime, b: VectorTime): boolean {
  return compareVectors(a, b) === 'concurrent';
}

/** A process's vector clock. */
export class VectorClock {
  time: VectorTime;

  constructor(
    readonly self: number,
    n: number,
  ) {
    if (!(Number.isInteger(self) && self >= 0 && self < n)) throw new RangeError(`VectorClock: process ${self} outside 0..${n - 1}`);
    this.time = vectorZero(n);
  }

  /** A local event: returns (a copy of) its timestamp. */
  tick(): VectorTime {
    this.time = vectorTick(this.time, this.self);
    return this.time.slice();
  }

  /** A send: returns the stamp the message carries. */
  send(): VectorTime {
    return this.tick();
  }

  /** A receive of a message stamped `stamp`: returns the receive event's timestamp. */
  receive(stamp: VectorTime): VectorTime {
    this.time = vectorReceive(this.time, stamp, this.self);
    return this.time.slice();
  }
}

function checkLengths(a: VectorTime, b: VectorTime): void {
  if (a.length !== b.length) throw new RangeError(`vector clocks of different sizes: ${a.length} and ${b.length}`);
}

function checkIndex(v: VectorTime, i: number): void {
  if (!(Number.isInteger(i) && i >= 0 && i < v.length)) throw new RangeError(`vector clock slot ${i} outside 0..${v.length - 1}`);
}
