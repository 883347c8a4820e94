/**
 * Test helpers over the simulator, for every algorithm's tests. A failing seed is printed with a
 * one-line command that replays just that seed:
 *
 *   DSMPI_SEED=1234 npx tap test/sim/x.test.ts
 *
 * Environment: DSMPI_SEED runs only that seed; DSMPI_SEEDS=k overrides how many seeds forEachSeed
 * runs; DSMPI_TRACE=path writes the JSONL trace of each run (the last one wins) to path.
 */
import { relative } from 'node:path';
import { simulate, type Communicator, type SimulateOptions, type SimulationResult } from 'dsmpi';

export type RunRanksOptions = Omit<SimulateOptions, 'n' | 'seed'> & { seed?: number };

export interface SeedOptions {
  /** First seed (default 1): seeds first, first+1, ... */
  first?: number;
}

/** The seed DSMPI_SEED asks to replay, if any. */
export function replaySeed(): number | undefined {
  const raw = process.env.DSMPI_SEED;
  if (raw === undefined || raw === '') return undefined;
  const seed = Number(raw);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`DSMPI_SEED=${raw}: not a seed (an integer 0..2^32-1)`);
  return seed;
}

/** The command that replays `seed` of this test file. */
export function replayCommand(seed: number): string {
  const file = process.argv[1] ? relative(process.cwd(), process.argv[1]) : '<test file>';
  return `DSMPI_SEED=${seed} npx tap ${file}`;
}

/**
 * One simulated run of `n` ranks of `main`, seeded by DSMPI_SEED, else `opts.seed`, else 1. A failure
 * is rethrown with the seed and the replay command in its message.
 */
export async function runRanks<T>(
  n: number,
  main: (comm: Communicator) => Promise<T> | T,
  opts: RunRanksOptions = {},
): Promise<SimulationResult<T>> {
  const seed = replaySeed() ?? opts.seed ?? 1;
  try {
    return await simulate({ ...opts, n, seed, trace: opts.trace ?? process.env.DSMPI_TRACE }, main);
  } catch (err) {
    throw withReplay(err, seed);
  }
}

/**
 * Calls `fn(seed)` for `count` seeds (or only DSMPI_SEED), in order, and stops at the first that
 * throws: that error is rethrown with the seed and its replay command, which is also printed.
 * Checkers should throw (node:assert) rather than record tap assertions, so the seed is caught.
 * Returns the seeds run.
 */
export async function forEachSeed(count: number, opts: SeedOptions, fn: (seed: number) => Promise<void> | void): Promise<number[]> {
  const only = replaySeed();
  const n = process.env.DSMPI_SEEDS ? Number(process.env.DSMPI_SEEDS) : count;
  const first = opts.first ?? 1;
  const seeds = only !== undefined ? [only] : Array.from({ length: n }, (_, i) => first + i);
  for (const seed of seeds) {
    try {
      await fn(seed);
    } catch (err) {
      const annotated = withReplay(err, seed);
      process.stderr.write(`dsmpi: seed ${seed} failed; replay: ${replayCommand(seed)}\n`);
      throw annotated;
    }
  }
  return seeds;
}

/**
 * The usual simulation test: for each seed, simulate `n` ranks of `main` with `opts` and hand the
 * result to `check`, which throws on a broken invariant.
 */
export function runSeeds<T>(
  count: number,
  n: number,
  main: (comm: Communicator) => Promise<T> | T,
  opts: RunRanksOptions & SeedOptions,
  check: (result: SimulationResult<T>) => Promise<void> | void,
): Promise<number[]> {
  return forEachSeed(count, opts, async (seed) => {
    const result = await simulate({ ...opts, n, seed, trace: opts.trace ?? process.env.DSMPI_TRACE }, main);
    await check(result);
  });
}

function withReplay(err: unknown, seed: number): Error {
  const message = err instanceof Error ? err.message : String(err);
  if (message.includes('DSMPI_SEED=')) return err as Error;
  const out = new Error(`seed ${seed} failed: ${message}\n  replay: ${replayCommand(seed)}`, { cause: err });
  const code = (err as { code?: unknown } | null)?.code;
  if (code !== undefined) Object.assign(out, { code });
  return out;
}
