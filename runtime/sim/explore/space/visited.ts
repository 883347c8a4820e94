/**
 * The search's bulk storage: the visited states as 64-bit fingerprints, and per-state int32 lists
 * (parent, action, permutation) in typed arrays.
 */

/**
 * The visited states, as 64-bit fingerprints of their keys (as TLC and Stateright keep them): two
 * 32-bit hashes in an open-addressing table. Two states would be confused only if both hashes
 * collide: with 10^8 states, a chance of about 3 in 10^4.
 */
export class FingerprintSet {
  private hi = new Uint32Array(1 << 16);
  private lo = new Uint32Array(1 << 16);
  private size = 0;

  /** Adds the key's fingerprint; false if it was there. */
  add(key: string): boolean {
    let a = 0x811c9dc5;
    let b = 0x9747b28c;
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 15;
    }
    a = (a ^ (a >>> 16)) >>> 0;
    b = b >>> 0 || 1; // 0 marks an empty slot
    if (!this.insert(a, b)) return false;
    if (++this.size * 2 > this.hi.length) this.grow();
    return true;
  }

  private insert(a: number, b: number): boolean {
    const mask = this.hi.length - 1;
    for (let i = a & mask; ; i = (i + 1) & mask) {
      if (this.lo[i] === 0) {
        this.hi[i] = a;
        this.lo[i] = b;
        return true;
      }
      if (this.hi[i] === a && this.lo[i] === b) return false;
    }
  }

  private grow(): void {
    const { hi, lo } = this;
    this.hi = new Uint32Array(hi.length * 2);
    this.lo = new Uint32Array(lo.length * 2);
    for (let i = 0; i < hi.length; i++) if (lo[i] !== 0) this.insert(hi[i], lo[i]);
  }
}

/** An append-only list of int32 in a typed array (a state's parent, action, permutation). */
export class GrowableInt32 {
  private data = new Int32Array(1 << 16);
  length = 0;

  push(x: number): void {
    if (this.length === this.data.length) {
      const bigger = new Int32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = x;
  }

  at(i: number): number {
    return this.data[i];
  }
}
