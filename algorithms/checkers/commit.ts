/**
 * Safety checkers for atomic commit, for simulation tests: throw (node-style Error) on a violation.
 * Feed them every rank's final state, including ranks that crashed (read from their durable storage).
 */

/** What a rank of an atomic commit ended with (the commit algorithms return these; the checkers import no algorithm). */
export type CommitOutcome = 'COMMITTED' | 'ABORTED' | 'BLOCKED' | 'CRASHED';

/** Atomicity: all ranks that decided, decided the same. */
export function checkAtomicity(outcomes: Array<CommitOutcome | undefined>): void {
  const decided = new Set(outcomes.filter((o) => o === 'COMMITTED' || o === 'ABORTED'));
  if (decided.size > 1) {
    throw new Error(`atomicity violated: ${outcomes.map((o, r) => `rank ${r} ${o ?? '—'}`).join(', ')}`);
  }
}

/** Validity: COMMITTED only if every participant voted yes. `votes[r]` is rank r's vote (undefined for the coordinator or a rank that never voted). */
export function checkCommitValidity(
  outcomes: Array<CommitOutcome | undefined>,
  votes: Array<'yes' | 'no' | undefined>,
  coordinator = 0,
): void {
  if (!outcomes.includes('COMMITTED')) return;
  const missing = votes.flatMap((v, r) => (r !== coordinator && v !== 'yes' ? [r] : []));
  if (missing.length > 0) throw new Error(`validity violated: committed without a yes vote from rank(s) ${missing.join(', ')}`);
}
