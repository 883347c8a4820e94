import { defaultElectionOptions, type ElectionOptions } from '../../algorithms/leader-election.ts';

/** The timings examples/leader-election.ts runs with: ranks that run `runMs`, then agree. */
export const exampleElectionOptions = (runMs: number): ElectionOptions => ({
  ...defaultElectionOptions,
  runMs,
  timeoutMs: 150,
  candidacyMs: 200,
  periodMs: 50,
  detector: { periodMs: 50, timeoutMs: 250, backoffMs: 100 },
});
