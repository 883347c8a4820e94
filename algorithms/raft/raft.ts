/**
 * Raft (book 4.3, "a leader election-based sequence Paxos"; the rules are the Raft paper's, Ongaro
 * and Ousterhout 2014, figure 2, and the course notes' I1 to I4 with their errata E6, E7, E21).
 *
 * Every rank is a server (follower, candidate or leader) and a client with its own commands.
 *
 * - Election (5.2): a follower that hears no leader and grants no vote for a randomized election
 *   timeout (uniform [minMs, maxMs), drawn from the input's `random`) becomes a candidate: term + 1,
 *   votes for itself, RequestVote to all. Votes from a majority make it leader of that term. A server
 *   grants at most one vote per term, and only to a candidate whose log is at least as up to date as
 *   its own (5.4.1, E21: higher last term, or the same last term and a last index at least as long).
 *   Any message carrying a higher term makes the receiver adopt it and become a follower (E7).
 * - Replication (5.3): the leader appends a no-op of its term on election (8), then client commands;
 *   AppendEntries(prevLogIndex, prevLogTerm, entries from nextIndex, leaderCommit) to each follower,
 *   every heartbeat interval and at once when there is something new. A follower whose log has no
 *   entry (prevLogIndex, prevLogTerm) refuses; the leader backs nextIndex off by one (E6; or to the
 *   follower's log length + 1 when that is smaller) and retries. A follower that accepts deletes a
 *   conflicting suffix and appends.
 * - Commit (5.3, 5.4.2): the leader commits index N when a majority has matchIndex >= N **and**
 *   log[N].term == currentTerm; earlier entries then commit with it (never by counting replicas,
 *   the paper's figure 8). Followers learn commitIndex from leaderCommit; everyone applies
 *   lastApplied + 1..commitIndex in order.
 * - Persistence (5.1 / figure 2): currentTerm, votedFor and the log are written to `comm.storage`
 *   after every step and before its messages go out (serve()'s persist hook); a restarted rank comes
 *   back as a follower with them, and rebuilds commitIndex and its state machine from the leader.
 *
 * Log indices are 1-based as in the paper: entry i is `log[i - 1]`; index 0 has term 0.
 * When a rank has applied every client's commands it announces its applied log (Farewell) and
 * leaves as common/farewell.ts describes (serve() runs it).
 *
 * Files: messages.ts (tags and message types), state.ts (the server's state, start, persistence),
 * log.ts, election.ts, replication.ts, client.ts (the roles), step.ts (the machine).
 */
import type { Communicator } from 'dsmpi';
import { range, serve, type Machine } from '../common/serve.ts';
import type { Command, Entry } from './messages.ts';
import { appliedLog, defaultRaftOptions, startRaft, type RaftOptions, type RaftState } from './state.ts';
import { raftMachine, stepRaft } from './step.ts';

export * from './messages.ts';
export * from './state.ts';
export { raftMachine, raftWakeAt, stepRaft } from './step.ts';

/** What a test sees during a run (for the invariants of checkers/raft-invariants.ts). */
export type RaftEvent =
  | {
      type: 'leader';
      rank: number;
      term: number;
      votes: number[];
      log: Entry[];
      atMs: number;
    }
  | { type: 'log'; rank: number; log: Entry[]; atMs: number }
  | {
      type: 'commit';
      rank: number;
      term: number;
      index: number;
      entry: Entry;
      atMs: number;
    }
  | {
      type: 'apply';
      rank: number;
      index: number;
      command: Command;
      atMs: number;
    };

export interface RaftOutcome {
  rank: number;
  log: Command[];
  /** Terms this rank led. */
  led: { term: number; votes: number[] }[];
  term: number;
  leader: number | null;
}

/** Wraps the machine so `observe` sees every election won, log change, commit and apply. */
export function observedMachine(observe: (e: RaftEvent) => void): Machine<RaftState> {
  let version = -1;
  return {
    ...raftMachine,
    step(st, input) {
      const led = st.led.length;
      const commit = st.commitIndex;
      const applied = st.applied.length;
      const r = stepRaft(st, input);
      const at = input.nowMs;
      if (st.logVersion !== version) {
        version = st.logVersion;
        observe({ type: 'log', rank: st.rank, log: st.log.slice(), atMs: at });
      }
      if (st.led.length > led) {
        const w = st.led[st.led.length - 1];
        // The log it had when it won (the no-op it appends is its own term's).
        observe({
          type: 'leader',
          rank: st.rank,
          term: w.term,
          votes: w.votes,
          log: st.log.slice(0, -1),
          atMs: at,
        });
      }
      for (let i = commit + 1; i <= st.commitIndex; i++)
        observe({
          type: 'commit',
          rank: st.rank,
          term: st.currentTerm,
          index: i,
          entry: st.log[i - 1],
          atMs: at,
        });
      for (let k = applied; k < st.applied.length; k++)
        observe({
          type: 'apply',
          rank: st.rank,
          index: st.appliedAt[k],
          command: st.applied[k],
          atMs: at,
        });
      return r;
    },
  };
}

/**
 * Runs this rank as a Raft server and a client until every client's commands are applied here.
 * `values(rank)` are the commands rank's client submits; `observe` sees the run's events.
 */
export async function raftMain(
  comm: Communicator,
  values: (rank: number) => Command[],
  options: RaftOptions = defaultRaftOptions,
  observe?: (e: RaftEvent) => void,
): Promise<RaftOutcome> {
  const all = range(0, comm.size).map(values);
  if (all.every((v) => v.length === 0)) throw new Error('raftMain(): no client has a command, so the run would never end');
  const state = startRaft(comm.rank, comm.size, comm.clock.now(), comm.random(), all, options, comm.storage);
  const s = await serve(comm, observe ? observedMachine(observe) : raftMachine, state);
  return {
    rank: s.rank,
    log: appliedLog(s),
    led: s.led,
    term: s.currentTerm,
    leader: s.leaderId,
  };
}
