import { Buffer } from 'node:buffer';
import { BELL_STRIDE, HEADER_BYTES, RING_BYTES } from '../protocol/thread-rings.ts';

/** The largest frame that travels in a ring; larger ones are posted (and handed over). */
export const RING_MAX_FRAME = RING_BYTES / 4;
const HEAD = 0;
const TAIL = 16;
/** A record: its frame's length and sequence number (two 32-bit words), then the frame, padded to 8 bytes. */
const RECORD_HEAD = 8;
/** In place of a record's length: the rest of the ring up to its end is unused, the next record is at its start. */
const WRAP = -1;

/**
 * A one-way ring of frames in shared memory between two threads: one writes, the other reads, and
 * neither waits on a lock. Positions only grow (modulo 2^32); the writer publishes a record by
 * moving its position with Atomics.store, which makes the record's bytes visible to the reader that
 * Atomics.loads it. A frame that does not fit is refused; the caller sends it another way.
 */
export class SharedRing {
  private readonly positions: Int32Array;
  private readonly words: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly mask = RING_BYTES - 1;

  /** The ring at `offset` in `memory` (see ringMemory). */
  constructor(memory: SharedArrayBuffer, offset: number) {
    this.positions = new Int32Array(memory, offset, HEADER_BYTES / 4);
    this.words = new Int32Array(memory, offset + HEADER_BYTES, RING_BYTES / 4);
    this.bytes = new Uint8Array(memory, offset + HEADER_BYTES, RING_BYTES);
  }

  /** Writes `frame` with sequence number `seq`; false, writing nothing, if it does not fit now. */
  write(seq: number, frame: Uint8Array): boolean {
    const size = (RECORD_HEAD + frame.length + 7) & ~7;
    let tail = this.positions[TAIL];
    const free = RING_BYTES - ((tail - Atomics.load(this.positions, HEAD)) >>> 0);
    let at = tail & this.mask;
    const toEnd = RING_BYTES - at;
    if (size > toEnd) {
      if (toEnd + size > free) return false;
      this.words[at >> 2] = WRAP;
      tail = (tail + toEnd) | 0;
      at = 0;
    } else if (size > free) return false;
    this.words[at >> 2] = frame.length;
    this.words[(at >> 2) + 1] = seq;
    this.bytes.set(frame, at + RECORD_HEAD);
    Atomics.store(this.positions, TAIL, (tail + size) | 0);
    return true;
  }

  /** The sequence number of the next frame to read, or undefined if there is none. */
  nextSeq(): number | undefined {
    for (;;) {
      const head = this.positions[HEAD];
      if (head === Atomics.load(this.positions, TAIL)) return undefined;
      const at = head & this.mask;
      if (this.words[at >> 2] !== WRAP) return this.words[(at >> 2) + 1];
      Atomics.store(this.positions, HEAD, (head + RING_BYTES - at) | 0);
    }
  }

  /** Takes the next frame (nextSeq() said there is one) as a copy of its own. */
  take(): Buffer {
    const head = this.positions[HEAD];
    const at = head & this.mask;
    const length = this.words[at >> 2];
    const frame = Buffer.from(this.bytes.subarray(at + RECORD_HEAD, at + RECORD_HEAD + length));
    Atomics.store(this.positions, HEAD, (head + ((RECORD_HEAD + length + 7) & ~7)) | 0);
    return frame;
  }
}

/**
 * Whether each rank sleeps, in shared memory: a rank marks itself asleep before a last look at its
 * rings, and the first writer to its rings that finds the mark takes it down and wakes the rank
 * with a message on their MessageChannel (Atomics.waitAsync wakes far more slowly in Node.js).
 */
export class Doorbells {
  private readonly cells: Int32Array;

  constructor(memory: SharedArrayBuffer) {
    this.cells = new Int32Array(memory);
  }

  /** A frame was written for `rank`: true if the writer must wake it (it was asleep; once per sleep). */
  wakeNeeded(rank: number): boolean {
    const at = rank * BELL_STRIDE;
    return Atomics.load(this.cells, at) === 1 && Atomics.compareExchange(this.cells, at, 1, 0) === 1;
  }

  /** Marks `rank` asleep; then the caller looks at its rings once more before it sleeps. */
  markAsleep(rank: number): void {
    Atomics.store(this.cells, rank * BELL_STRIDE, 1);
  }

  markAwake(rank: number): void {
    Atomics.store(this.cells, rank * BELL_STRIDE, 0);
  }
}
