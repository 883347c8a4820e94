// dsmpi collective latencies (OSU style): barrier, bcast of the small object from rank 0, allreduce
// of 8 numbers with 'sum', plus counter.fetchAndOp latency from the non-root ranks. Every call is
// timed on every rank after 100 warm-up calls; timed bcast/allreduce calls are separated by an
// untimed barrier. Each figure is the average over ranks of each rank's median; rank 0 prints JSON.
// Usage: dsrun -n N --quiet bench/programs/collectives.ts [iterations]
// (default: calibrated on the warm-up calls to about 0.5 s per op)
import { run, type Communicator } from "dsmpi";
import { median, smallMessage } from "../stats.ts";

const WARMUP = 100;
const TARGET_MS = 500;
const MIN_ITERS = 50;
const MAX_ITERS = 200000;

await run(async (world) => {
  const fixed =
    process.argv[2] === undefined ? undefined : Number(process.argv[2]);
  if (fixed !== undefined && !(Number.isInteger(fixed) && fixed > 0)) {
    throw new Error(
      `iterations must be a positive integer, got ${process.argv[2]}`,
    );
  }

  /** Runs WARMUP untimed calls, agrees on the iteration count, then times every call. */
  async function timeOp(
    call: (i: number) => Promise<unknown>,
    separate: boolean,
  ): Promise<number> {
    const w0 = performance.now();
    for (let i = 0; i < WARMUP; i++) {
      await call(i);
      if (separate) await world.barrier();
    }
    const perCall = (performance.now() - w0) / WARMUP;
    // Rank 0's estimate decides for everyone: every rank must make the same number of calls.
    const iters = await world.bcast(
      fixed ??
        Math.min(
          MAX_ITERS,
          Math.max(MIN_ITERS, Math.round(TARGET_MS / perCall)),
        ),
    );
    const times = new Array<number>(iters);
    for (let i = 0; i < iters; i++) {
      const start = performance.now();
      await call(i);
      times[i] = performance.now() - start;
      if (separate) await world.barrier();
    }
    return median(times) * 1000;
  }

  const barrierUs = await timeOp(() => world.barrier(), false);
  await world.barrier();
  const bcastUs = await timeOp(
    (i) => world.bcast(world.rank === 0 ? smallMessage(i) : undefined, 0),
    true,
  );
  await world.barrier();
  const vector = Array.from({ length: 8 }, (_, k) => world.rank + k);
  const allreduceUs = await timeOp(() => world.allreduce(vector, "sum"), true);
  await world.barrier();
  const counterUs = await counterLatency(world, fixed);

  const all = await world.gather([barrierUs, bcastUs, allreduceUs, counterUs]);
  if (world.rank === 0) {
    const rows = all!;
    const avg = (k: number, from: number[][]): number =>
      from.reduce((s, r) => s + r[k], 0) / from.length;
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
 * Median latency of counter.fetchAndOp(1, 'sum') on a counter hosted by rank 0. The non-root
 * ranks (all at once) measure it; with one rank, the root measures its own. Others return NaN.
 */
async function counterLatency(
  world: Communicator,
  fixed: number | undefined,
): Promise<number> {
  const counter = await world.counter({ root: 0 });
  let us = NaN;
  if (world.rank !== 0 || world.size === 1) {
    for (let i = 0; i < WARMUP; i++) await counter.fetchAndOp(1, "sum");
    const times: number[] = [];
    const begin = performance.now();
    // A fixed count if given, else about TARGET_MS of calls (one-sided: ranks need not agree).
    for (
      let i = 0;
      fixed !== undefined
        ? i < fixed
        : performance.now() - begin < TARGET_MS || i < MIN_ITERS;
      i++
    ) {
      const start = performance.now();
      await counter.fetchAndOp(1, "sum");
      times.push(performance.now() - start);
      if (times.length >= MAX_ITERS) break;
    }
    us = median(times) * 1000;
  }
  await counter.free();
  return us;
}
