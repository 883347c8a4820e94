// Golden traces: each run of runs.ts must give, byte for byte, the trace committed under traces/.
// A diff means the simulator's behaviour changed (scheduling, matching, message sizes, an
// algorithm's messages). If the change is intended, regenerate and review the diff:
//
//   npm run golden:update            (all runs)
//   DSMPI_GOLDEN=update DSMPI_GOLDEN_ONLY=raft npx tap test/golden/golden.test.ts
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { simulate } from 'dsmpi';
import { goldenRuns } from './runs.ts';

const update = process.env.DSMPI_GOLDEN === 'update';
const only = process.env.DSMPI_GOLDEN_ONLY?.split(',');
const traceFile = (name: string): URL => new URL(`traces/${name}.jsonl`, import.meta.url);

/** The first line where two traces differ, with its neighbours, for a short failure message. */
function firstDifference(want: string, got: string): string {
  const w = want.split('\n');
  const g = got.split('\n');
  let i = 0;
  while (i < w.length && i < g.length && w[i] === g[i]) i++;
  return `line ${i + 1} (committed ${w.length - 1} lines, now ${g.length - 1}):\n  committed: ${w[i] ?? '<end>'}\n  now:       ${g[i] ?? '<end>'}`;
}

for (const [name, run] of Object.entries(goldenRuns)) {
  if (only && !only.includes(name)) continue;
  t.test(`${name}: n = ${run.n}, seed ${run.seed}`, async (t) => {
    const r = await simulate({ n: run.n, seed: run.seed, faults: run.faults, timeLimitMs: run.timeLimitMs ?? 60_000 }, run.main);
    const got = r.jsonl();
    t.ok(
      r.trace.some((e) => e.ev === 'send'),
      'the run sends messages',
    );
    if (update) {
      writeFileSync(traceFile(name), got);
      t.pass(`wrote traces/${name}.jsonl (${r.trace.length} events)`);
      return;
    }
    const want = readFileSync(traceFile(name), 'utf8');
    if (got === want) t.pass(`${r.trace.length} events as committed`);
    else t.fail(`the trace differs from traces/${name}.jsonl at ${firstDifference(want, got)}\n  if intended: npm run golden:update`);
  });
}
