// Replay within one process: every algorithm's golden run, run again after every algorithm has run
// at other seeds, gives the same trace byte for byte. Module-level state in an algorithm (a counter,
// a cache) would make a seed's trace depend on what ran before it in the process; the lint rule
// dsmpi/no-module-state forbids it, and this catches what a rule cannot see.
import t from 'tap';
import { simulate } from 'dsmpi';
import { majorityRead, ReplicatedMap, serveReads } from '../../algorithms/crdt/replicated-map.ts';
import { goldenRuns, type GoldenRun } from './runs.ts';

const traceOf = async (run: GoldenRun, seed: number): Promise<string> => {
  const r = await simulate({ n: run.n, seed, faults: run.faults, timeLimitMs: run.timeLimitMs }, run.main);
  return r.jsonl();
};

/** Runs the golden runs do not cover: majority reads of the replicated map (request ids). */
const moreRuns: Record<string, GoldenRun> = {
  'majority-read': {
    n: 3,
    seed: 31,
    main: async (c) => {
      const map = new ReplicatedMap<number>(c.rank);
      map.put('KEN', 10 + c.rank);
      const server = serveReads(c, map);
      const read = c.rank === 0 ? await majorityRead(c, map, 'KEN', { retryMs: 20, timeoutMs: 500 }) : undefined;
      await c.clock.sleep(600);
      server.stop();
      await server.done;
      return read;
    },
  },
};

t.test('each algorithm replays byte for byte after the others ran at other seeds', async (t) => {
  const runs = Object.entries({ ...goldenRuns, ...moreRuns });
  const first = new Map<string, string>();
  for (const [name, run] of runs) first.set(name, await traceOf(run, run.seed));
  // Other seeds in between, in the reverse order, so whatever an algorithm leaves behind differs.
  for (const [, run] of [...runs].reverse()) await traceOf(run, run.seed + 1000);
  for (const [name, run] of runs) {
    const again = await traceOf(run, run.seed);
    t.ok(again === first.get(name), `${name}: seed ${run.seed} gives the same ${again.length} bytes of trace`);
  }
});
