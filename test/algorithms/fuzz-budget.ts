// CI's small budget of the fuzzing campaign (docs/fuzzing.md): a few hundred seeds of each target,
// no safety violation and no liveness failure inside its fault model. The targets are spread over
// several test files (fuzz-*.test.ts) so that each stays well within the per-file timeout on a
// loaded machine. DSMPI_FUZZ_SEEDS sets every target's budget; `npm run fuzz -- all` is the full
// campaign. A failure prints its replay command.
import t from 'tap';
import { failureLines, fuzz } from 'dsmpi/fuzz';
import { targetNamed } from '../../algorithms/fuzz-targets/index.ts';

const FILE_TIMEOUT_MS = 600_000;

/**
 * Fuzzes each named target over its number of seeds from seed `first` (unshrunk: the campaign
 * shrinks). A budget too large for one file is split: the next file starts where this one ends.
 */
export function fuzzBudget(budget: Record<string, number>, first = 1): void {
  // A file takes 10 to 25 s of CPU; on a machine loaded several times over that can pass the
  // runner's default per-file timeout. Every run is bounded (virtual time and step limits), so a
  // longer timeout cannot hide a hang.
  t.setTimeout(FILE_TIMEOUT_MS);
  const override = process.env.DSMPI_FUZZ_SEEDS;
  for (const [name, defaultSeeds] of Object.entries(budget)) {
    const target = targetNamed(name);
    if (!target) throw new Error(`fuzz budget: no target '${name}'`);
    const seeds = override ? Number(override) : defaultSeeds;
    t.test(`${name}: fuzz seeds ${first}..${first + seeds - 1}, nothing fails inside its fault model`, async (t) => {
      const r = await fuzz(target, { seeds, first, shrink: false });
      const why = failureLines(r).join('\n');
      t.equal(r.inModel.safety, 0, `safety violations${why ? `:\n${why}` : ''}`);
      t.equal(r.inModel.liveness, 0, `liveness failures${why ? `:\n${why}` : ''}`);
      t.equal(r.inModel.runs + r.outOfModel.runs, seeds);
      t.ok(r.inModel.runs > r.outOfModel.runs, 'most runs are inside the model');
    });
  }
}
