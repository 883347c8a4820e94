/**
 * dsrun --threads: the layout of the shared memory the launcher makes and the rank threads use. With
 * polling, a ring for each ordered pair of ranks and a doorbell for each rank
 * (runtime/transport/shared-ring.ts); always, the world barrier's memory.
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

/**
 * The world barrier's shared memory (barrierShared in runtime/collectives.ts). Without polling, one
 * Int32: the arrival count. With polling, also a generation word that waiters spin on, on a cache
 * line of its own, and a flag per rank that says it stopped spinning and sleeps until a message
 * releases it.
 */
export function barrierMemory(n: number, poll: boolean): SharedArrayBuffer {
  return new SharedArrayBuffer((poll ? SLEEPER_BASE + n : 1) * 4);
}

/** Int32 index of the arrival count in barrierMemory. */
export const ARRIVALS = 0;
/** Int32 index of the generation word (polling only): the last to arrive adds 1 to release the others. */
export const GENERATION = BELL_STRIDE;
/** Int32 index of rank 0's sleeping flag (polling only); rank r's is at SLEEPER_BASE + r. */
export const SLEEPER_BASE = 2 * BELL_STRIDE;

/**
 * The sleeping flag of a rank waiting in the barrier of `generation`: never 0 (awake), and not the
 * flag of the barrier before or after it. A flag only says "asleep" would let the last to arrive at
 * one barrier, still reading the flags after its release, take a rank that has already left it and
 * sleeps in the next one, and release it from that one too early.
 */
function sleepMark(generation: number): number {
  return (generation & 0x3fffffff) + 1;
}

/** Flags `rank` asleep in the barrier of `generation`: a message will release it. */
export function flagAsleep(memory: Int32Array, rank: number, generation: number): void {
  Atomics.store(memory, SLEEPER_BASE + rank, sleepMark(generation));
}

/**
 * Clears `rank`'s flag if it sleeps in the barrier of `generation`, and says whether this call
 * cleared it. The last to arrive and the sleeper itself (seeing the release after flagging) both
 * try: the one that clears it decides whether the release is a message.
 */
export function clearAsleep(memory: Int32Array, rank: number, generation: number): boolean {
  const mark = sleepMark(generation);
  return Atomics.compareExchange(memory, SLEEPER_BASE + rank, mark, 0) === mark;
}

/** Whether barrier memory (as an Int32Array) is laid out for polling ranks. */
export function barrierPolls(memory: Int32Array): boolean {
  return memory.length > 1;
}
