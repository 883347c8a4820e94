/**
 * The explorer's bug benchmark: our own ports with one known bug each, made by a one-line change of
 * the source (a mutant). `loadMutant` copies algorithms/ into a scratch directory of the repository,
 * applies the change (which must match exactly once, so a refactor that moves the line is noticed)
 * and loads that copy's fuzz target, with its invariants.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExploreOptions } from 'dsmpi/explore';
import type { FuzzTarget } from 'dsmpi/fuzz';

/** The faults the explorer may choose per execution, and what they do (ExploreOptions, "Faults as choices"). */
export type MutantFaults = Pick<
  ExploreOptions,
  'crashes' | 'restartAfterMs' | 'partitions' | 'partitionMs' | 'partitionShape' | 'pauses' | 'pauseMs'
>;

export interface Mutant {
  name: string;
  /** The fuzz target it breaks, and the number of ranks to explore it at. */
  target: string;
  n: number;
  /** Messages the explorer may lose per execution for the bug to show (0: an interleaving alone). */
  drops: number;
  /**
   * Async timing: how many times each rank's timer may fire ahead of a message due before it, when
   * the bug needs more than the explorer's default (a rank must outwait a timeout while a message
   * to it is in flight).
   */
  timerBudget?: number;
  /** Crashes, partitions and pauses the explorer may choose per execution for the bug to show (none if absent). */
  faults?: MutantFaults;
  bug: string;
  /** File under algorithms/, and the one change. */
  file: string;
  from: string;
  to: string;
}

export const mutants: readonly Mutant[] = [
  {
    name: 'paxos-ignores-accepted',
    target: 'single-paxos-core',
    n: 5,
    drops: 0,
    // The bug shows only when the Nacked proposer's retry collects a promise carrying the winner's
    // accepted value and gets its own value accepted by a majority before the decision reaches
    // those acceptors (Decide, after which they stop voting): a retry timer due within a message's
    // latency of the decision, which bounded timing leaves to the seed; async timing lets a strategy
    // fire it early (docs/exploration.md).
    // One pause of the winning proposer once a majority accepted its value holds its decision back
    // while the other proposer's retry runs: one deviation for the deterministic strategies.
    faults: { pauses: 1 },
    bug: 'a proposer with a quorum of promises proposes its own value, not the highest accepted one',
    file: 'paxos/single/proposer.ts',
    from: 'p.proposal = best ? best.value : p.value;',
    to: 'p.proposal = p.value;',
  },
  {
    name: 'paxos-promises-lower-ballot',
    target: 'single-paxos-core',
    n: 5,
    drops: 0,
    // One pause (a proposer's or an acceptor's) lets the two proposers' phases interleave at the acceptors.
    faults: { pauses: 1 },
    bug: 'an acceptor compares only the counters of ballots on Prepare, so it promises an equal counter of another proposer: a lower ballot',
    file: 'paxos/single/acceptor.ts',
    // The Prepare handler's comparison (the Accept handler has the same one, without the line after).
    from: 'if (compareBallots(ballot, a.promised) >= 0) {\n    if (ballotAbove(ballot, a.promised))',
    to: 'if (ballot[0] >= a.promised[0]) {\n    if (ballotAbove(ballot, a.promised))',
  },
  {
    name: 'raft-votes-twice',
    target: 'raft',
    n: 3,
    drops: 0,
    bug: 'a Raft follower grants its vote in a term in which it already voted for another candidate',
    file: 'raft/election.ts',
    from: '(s.votedFor === null || s.votedFor === m.candidateId) && upToDate',
    to: 'upToDate',
  },
  {
    name: 'raft-votes-without-log-check',
    target: 'raft',
    n: 3,
    // A follower must miss the leader's heartbeats (every 50 ms) for an election timeout (150–300 ms)
    // to stand with a stale log: three to six lost AppendEntries to it in a row (random seeds, at
    // 20 % loss); or, under async timing, the AppendEntries in flight while the follower's timer fires
    // ahead of it: its client ticks (every 50 ms) and its election deadline, 4 to 7 firings.
    drops: 4,
    timerBudget: 6,
    // Or one partition of a rank for longer than an election timeout, after which it stands (or is
    // elected) with a stale log: one deviation.
    faults: { partitions: 1, partitionMs: 1000 },
    bug: 'a Raft follower grants its vote without checking that the candidate’s log is at least as up to date as its own',
    file: 'raft/election.ts',
    from: '(s.votedFor === null || s.votedFor === m.candidateId) && upToDate',
    to: '(s.votedFor === null || s.votedFor === m.candidateId)',
  },
  {
    name: '2pc-commits-on-timeout',
    target: 'two-phase-commit',
    n: 3,
    // The coordinator asks again every retryMs until its timeout: under bounded timing every request to
    // one participant must be lost; under async timing a vote delayed past the timeout is enough.
    drops: 4,
    // Or one partition past the coordinator's wait for votes (200 ms) and a participant's wait for
    // CanCommit (600 ms): the coordinator commits without a vote, a participant aborts alone. One deviation.
    faults: { partitions: 1, partitionMs: 1000 },
    bug: 'the 2PC coordinator commits when a vote is missing at its timeout',
    file: 'commit/two-phase-commit.ts',
    from: "decision = !no && yes.size === participants.length ? 'COMMIT' : 'ABORT';",
    to: "decision = !no ? 'COMMIT' : 'ABORT';",
  },
];

const algorithms = fileURLToPath(new URL('..', import.meta.url));

/** The mutant's fuzz target: the same invariants, run against the changed code. */
export async function loadMutant(m: Mutant): Promise<FuzzTarget<unknown>> {
  // Inside the repository, so the copy resolves `dsmpi` as the original does; removed once loaded.
  const dir = mkdtempSync(join(algorithms, '..', '.mutant-'));
  try {
    cpSync(algorithms, join(dir, 'algorithms'), { recursive: true });
    const path = join(dir, 'algorithms', m.file);
    const source = readFileSync(path, 'utf8');
    const found = source.split(m.from).length - 1;
    if (found !== 1) throw new Error(`mutant ${m.name}: "${m.from}" occurs ${found} times in algorithms/${m.file}, not once`);
    writeFileSync(path, source.replace(m.from, m.to));
    const mod = (await import(join(dir, 'algorithms', 'fuzz-targets', 'index.ts'))) as typeof import('./index.ts');
    const target = mod.targetNamed(m.target);
    if (!target) throw new Error(`mutant ${m.name}: no fuzz target ${m.target}`);
    return target;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
