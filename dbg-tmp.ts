import { simulate } from 'dsmpi';
import { loadMutant, mutants } from './algorithms/fuzz-targets/mutants.ts';
const m = mutants.find((x) => x.name === 'paxos-ignores-accepted')!;
const target = await loadMutant(m);
for (const maxMs of [10, 20, 40]) {
  let fails = 0, retries = 0; const t0 = performance.now();
  for (let seed = 1; seed <= 60; seed++) {
    const run = target.setup(11);
    let r;
    try { r = await simulate({ n: 11, seed, faults: { delay: { minMs: 0.1, maxMs } } }, (c) => run.main(c)); } catch (e) { fails++; continue; }
    try { run.check(r); } catch (e) { fails++; }
    if (r.jsonl().includes('"ballot":[2,')) retries++;
  }
  console.log(maxMs, 'fails', fails, 'retries', retries, ((performance.now() - t0) / 60).toFixed(1), 'ms/run');
}
