// dsmpi collective latencies: barrier, bcast of the small object from a turning root, allreduce of 8
// numbers with 'sum', plus counter.fetchAndOp latency from the non-root ranks. After 100 warm-up
// iterations every rank times, in turn, a barrier alone and the op followed by a barrier. The
// barrier figure is the median barrier; an op's figure is its median (op + barrier) minus the
// median barrier of the same loop, which does not depend on how staggered ranks leave the barrier
// (a tree barrier releases rank 0 first). Each figure is the average over ranks; rank 0 prints JSON.
// First, a warm-up until the timings are steady (see warmUp).
// bench/programs/collectives.py measures mpi4py the same way.
// Usage: dsrun -n N --quiet bench/programs/collectives.ts [iterations]
// (default: calibrated on the warm-up calls to about 0.5 s per op)
import { run, type Communicator } from 'dsmpi';
import { median, smallMessage } from '../stats.ts';

const WARMUP = 100;
const WARM_UP_ROUND = 300;
const WARM_UP_LIMIT_MS = 30_000;
const TARGET_MS = 500;
const MIN_ITERS = 50;
const MAX_ITERS = 200000;

await run(async (world) => {
  const fixed = process.argv[2] === undefined ? undefined : Number(process.argv[2]);
  if (fixed !== undefined && !(Number.isInteger(fixed) && fixed > 0)) {
    throw new Error(`iterations must be a positive integer, got ${process.argv[2]}`);
  }

  /**
   * Runs WARMUP untimed iterations, agrees on the iteration count, then times every iteration: a
   * barrier alone, then (with `call`) the call followed by a barrier. Returns the medians, µs.
   */
  async function timeIterations(call: ((i: number) => Promise<unknown>) | undefined): Promise<{ alone: number; withCall: number }> {
    const iteration = async (i: number): Promise<void> => {
      await world.barrier();
      if (call) {
        await call(i);
        await world.barrier();
      }
    };
    const w0 = performance.now();
    for (let i = 0; i < WARMUP; i++) await iteration(i);
    const perIteration = (performance.now() - w0) / WARMUP;
    // Rank 0's estimate decides for everyone: every rank must make the same number of calls.
    const iters = await world.bcast(fixed ?? Math.min(MAX_ITERS, Math.max(MIN_ITERS, Math.round(TARGET_MS / perIteration))));
    const alone = new Array<number>(iters);
    const withCall = new Array<number>(iters);
    for (let i = 0; i < iters; i++) {
      const t0 = performance.now();
      await world.barrier();
      const t1 = performance.now();
      if (call) {
        await call(i);
        await world.barrier();
      }
      alone[i] = t1 - t0;
      withCall[i] = performance.now() - t1;
    }
    return {
      alone: median(alone) * 1000,
      withCall: call ? median(withCall) * 1000 : NaN,
    };
  }
  /** What `call` adds to a barrier-separated loop; the interleaved barriers see the same noise. */
  async function costOf(call: (i: number) => Promise<unknown>): Promise<number> {
    const { alone, withCall } = await timeIterations(call);
    return withCall - alone;
  }

  await warmUp(world);
  const barrierUs = (await timeIterations(undefined)).alone;
  // The root turns, so a bcast cannot ride on the release of a barrier rooted at rank 0.
  const bcastUs = await costOf((i) => {
    const root = i % world.size;
    return world.bcast(world.rank === root ? smallMessage(i) : undefined, root);
  });
  const vector = Array.from({ length: 8 }, (_, k) => world.rank + k);
  const allreduceUs = await costOf(() => world.allreduce(vector, 'sum'));
  await world.barrier();
  const counterUs = await counterLatency(world, fixed);

  const all = await world.gather([barrierUs, bcastUs, allreduceUs, counterUs]);
  if (world.rank === 0) {
    const rows = all!;
    const avg = (k: number, from: number[][]): number => from.reduce((s, r) => s + r[k], 0) / from.length;
    const counterRows = world.size === 1 ? rows : rows.slice(1);
    console.log(
      JSON.stringify({
        n: world.size,
        barrierUs: avg(0, rows),
        bcastUs: avg(1, rows),
        allreduceUs: avg(2, rows),
        counterFetchAndOpUs: avg(3, counterRows),
      }),
    );
  }
});

/**
 * V8 compiles the hot paths only after some thousands of calls, and with many ranks per core that
 * takes seconds (longer with --threads, whose isolates share one process's compiler threads): at
 * n = 16 on 2 cores the first 3,000 barriers are up to 4× slower than the rest, and the gains come
 * in steps with plateaus between. So rounds of all three collectives run until the best of the last
 * three is no more than 5% faster than the best before them (at most WARM_UP_LIMIT_MS); rank 0
 * decides for everyone.
 */
async function warmUp(world: Communicator): Promise<void> {
  const vector = Array.from({ length: 8 }, (_, k) => world.rank + k);
  const begin = performance.now();
  const rounds: number[] = [];
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < WARM_UP_ROUND; i++) {
      await world.barrier();
      await world.bcast(world.rank === i % world.size ? smallMessage(i) : undefined, i % world.size);
      await world.allreduce(vector, 'sum');
    }
    rounds.push(performance.now() - t0);
    const k = rounds.length - 3;
    const steady =
      (k >= 1 && Math.min(...rounds.slice(k)) > 0.95 * Math.min(...rounds.slice(0, k))) || performance.now() - begin > WARM_UP_LIMIT_MS;
    if (await world.bcast(world.rank === 0 ? steady : undefined)) return;
  }
}

/**
 * Median latency of counter.fetchAndOp(1, 'sum') on a counter hosted by rank 0. The non-root
 * ranks (all at once) measure it; with one rank, the root measures its own. Others return NaN.
 */
async function counterLatency(world: Communicator, fixed: number | undefined): Promise<number> {
  const counter = await world.counter({ root: 0 });
  let us = NaN;
  if (world.rank !== 0 || world.size === 1) {
    for (let i = 0; i < WARMUP; i++) await counter.fetchAndOp(1, 'sum');
    const times: number[] = [];
    const begin = performance.now();
    // A fixed count if given, else about TARGET_MS of calls (one-sided: ranks need not agree).
    for (let i = 0; fixed !== undefined ? i < fixed : performance.now() - begin < TARGET_MS || i < MIN_ITERS; i++) {
      const start = performance.now();
      await counter.fetchAndOp(1, 'sum');
      times.push(performance.now() - start);
      if (times.length >= MAX_ITERS) break;
    }
    us = median(times) * 1000;
  }
  await counter.free();
  return us;
}
