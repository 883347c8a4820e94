/**
 * Raft's safety properties (the Raft paper, figure 3), checked over what a run recorded. Each
 * checker throws an InvariantError naming the property and the evidence, and returns nothing when it
 * holds. Inputs are plain records, so any Raft implementation (or a trace) can feed them; the
 * `RaftEvent`s of algorithms/raft/raft.ts map onto them directly (see checkRaftEvents).
 */
import { InvariantError } from './consensus-invariants.ts';

const text = (v: unknown): string => JSON.stringify(v);

export interface LogEntry {
  term: number;
  command: unknown;
}

/** Election safety: at most one leader can be elected in a given term. */
export function checkElectionSafety(wins: Iterable<{ term: number; rank: number }>): void {
  const byTerm = new Map<number, number>();
  for (const w of wins) {
    const first = byTerm.get(w.term);
    if (first !== undefined && first !== w.rank)
      throw new InvariantError('election safety', `term ${w.term} has two leaders, ranks ${first} and ${w.rank}`);
    byTerm.set(w.term, w.rank);
  }
}

/**
 * Log matching: if two logs (of any ranks, at any times) contain an entry with the same index and
 * term, they are identical in all entries up to that index. Checked by induction: every (index, term)
 * seen anywhere must always carry the same command and follow an entry of the same term.
 */
export function checkLogMatching(logs: Iterable<{ rank: number; log: ReadonlyArray<LogEntry>; atMs?: number }>): void {
  const seen = new Map<string, { sig: string; rank: number; atMs?: number }>();
  for (const { rank, log, atMs } of logs) {
    for (let i = 0; i < log.length; i++) {
      const key = `${i + 1}:${log[i].term}`;
      const sig = `${text(log[i].command)}|${i === 0 ? 0 : log[i - 1].term}`;
      const first = seen.get(key);
      if (!first) seen.set(key, { sig, rank, atMs });
      else if (first.sig !== sig) {
        throw new InvariantError(
          'log matching',
          `index ${i + 1} term ${log[i].term}: rank ${first.rank} had (command|previous term) ${first.sig}${first.atMs !== undefined ? ` at ${first.atMs} ms` : ''}, rank ${rank} has ${sig}${atMs !== undefined ? ` at ${atMs} ms` : ''}: ${text(log)}`,
        );
      }
    }
  }
}

/**
 * Leader completeness: an entry committed in term T is in the log of every leader of every term
 * above T (`leaders[k].log` is its log when it won).
 */
export function checkLeaderCompleteness(
  commits: Iterable<{
    term: number;
    index: number;
    entry: LogEntry;
    rank?: number;
  }>,
  leaders: ReadonlyArray<{
    term: number;
    rank: number;
    log: ReadonlyArray<LogEntry>;
  }>,
): void {
  // Per index, the lowest term in which it was known committed is the strongest claim.
  const strongest = new Map<number, { term: number; index: number; entry: LogEntry; rank?: number }>();
  for (const c of commits) {
    const k = strongest.get(c.index);
    if (!k || c.term < k.term) strongest.set(c.index, c);
  }
  for (const c of strongest.values()) {
    for (const l of leaders) {
      if (l.term <= c.term) continue;
      const e = l.log[c.index - 1];
      if (!e || e.term !== c.entry.term || text(e.command) !== text(c.entry.command)) {
        throw new InvariantError(
          'leader completeness',
          `index ${c.index} ${text(c.entry)} was committed in term ${c.term}${c.rank !== undefined ? ` (seen by rank ${c.rank})` : ''}, but rank ${l.rank}, leader of term ${l.term}, has ${e ? text(e) : 'no entry'} there`,
        );
      }
    }
  }
}

/** State machine safety: no two ranks (or incarnations) apply different commands at the same log index. */
export function checkStateMachineSafety(applies: Iterable<{ rank: number; index: number; command: unknown }>): void {
  const at = new Map<number, { rank: number; command: string }>();
  for (const a of applies) {
    const c = text(a.command);
    const first = at.get(a.index);
    if (!first) at.set(a.index, { rank: a.rank, command: c });
    else if (first.command !== c)
      throw new InvariantError(
        'state machine safety',
        `index ${a.index}: rank ${first.rank} applied ${first.command}, rank ${a.rank} applied ${c}`,
      );
  }
}

export type RaftRecord =
  | { type: 'leader'; rank: number; term: number; log: ReadonlyArray<LogEntry> }
  | { type: 'log'; rank: number; log: ReadonlyArray<LogEntry>; atMs?: number }
  | {
      type: 'commit';
      rank: number;
      term: number;
      index: number;
      entry: LogEntry;
    }
  | { type: 'apply'; rank: number; index: number; command: unknown };

/** All four over one run's records (e.g. the RaftEvents a test collected). */
export function checkRaftEvents(events: ReadonlyArray<RaftRecord>): void {
  const leaders = events.filter((e) => e.type === 'leader');
  checkElectionSafety(leaders);
  checkLogMatching([...events.filter((e) => e.type === 'log'), ...leaders]);
  checkLeaderCompleteness(
    events.filter((e) => e.type === 'commit'),
    leaders,
  );
  checkStateMachineSafety(events.filter((e) => e.type === 'apply'));
}
