/**
 * dsrun --threads with polling: the layout of the shared memory the launcher makes and the rank
 * threads use (runtime/transport/shared-ring.ts): a ring for each ordered pair of ranks and a
 * doorbell for each rank.
 */

/** Bytes of one ring's data (a power of two). */
export const RING_BYTES = 64 * 1024;
/** A ring's header: the reader's and the writer's positions, each on a cache line of its own. */
export const HEADER_BYTES = 128;
/** Int32 slots per rank in the doorbell memory: a cache line each. */
export const BELL_STRIDE = 16;

/** Memory for the n × n rings of `n` threads (the ring from a to b is at ringAt(n, a, b)). */
export function ringMemory(n: number): SharedArrayBuffer {
  return new SharedArrayBuffer(n * n * (HEADER_BYTES + RING_BYTES));
}

/** Offset in ringMemory(n) of the ring from rank `from` to rank `to`. */
export function ringAt(n: number, from: number, to: number): number {
  return (from * n + to) * (HEADER_BYTES + RING_BYTES);
}

/** Memory for the doorbells of `n` threads. */
export function bellMemory(n: number): SharedArrayBuffer {
  return new SharedArrayBuffer(n * BELL_STRIDE * 4);
}
