/**
 * A Raft server's state (figure 2: persistent, volatile on all servers, volatile on leaders; plus
 * the client each rank also is), how it starts and restarts from durable storage, and the
 * transitions every role shares: a new term, a new election deadline.
 */
import type { DurableStorage } from 'dsmpi';
import { defaultFarewell, type FarewellOptions } from '../common/farewell.ts';
import { range } from '../common/serve.ts';
import type { Command, Entry } from './messages.ts';

export type Role = 'follower' | 'candidate' | 'leader';

export interface RaftOptions {
  /** Election timeout, uniform in [minMs, maxMs) (the paper's 150-300 ms). */
  electionMinMs: number;
  electionMaxMs: number;
  /** The leader's AppendEntries period (heartbeats). */
  heartbeatMs: number;
  /** A client resends a command not yet applied after this long. */
  retryMs: number;
  /** Commands a client keeps in flight at once. */
  window: number;
  /** At most this many entries per AppendEntries. */
  maxEntries: number;
  farewell: FarewellOptions;
}

export const defaultRaftOptions: RaftOptions = {
  electionMinMs: 150,
  electionMaxMs: 300,
  heartbeatMs: 50,
  retryMs: 100,
  window: 4,
  maxEntries: 64,
  farewell: { ...defaultFarewell, periodMs: 20, lingerMs: 60 },
};

export interface RaftState {
  rank: number;
  size: number;
  options: RaftOptions;
  // persistent (figure 2)
  currentTerm: number;
  votedFor: number | null;
  log: Entry[];
  // volatile, all servers
  role: Role;
  commitIndex: number;
  lastApplied: number;
  /** The state machine: the commands applied, in order (no-ops skipped); `appliedAt[k]` is the log index of applied[k]. */
  applied: Command[];
  appliedAt: number[];
  leaderId: number | null;
  electionDeadlineMs: number;
  votes: Set<number>;
  // volatile, leader
  nextIndex: number[];
  matchIndex: number[];
  nextSendMs: number[];
  /**
   * Probing a follower (etcd raft's probe state): where its log matches is not known yet, so one
   * AppendEntries at a time from nextIndex, resent each heartbeat until answered; nextIndex moves
   * only on replies. Once it accepts one, the leader pipelines (moves nextIndex on send).
   */
  probing: boolean[];
  /** Commands in the log (the leader does not append a command twice). */
  inLog: Set<Command>;
  // client
  values: Command[][];
  mine: Command[];
  /** Own commands before this index are all applied. */
  mineFrom: number;
  sentMs: Map<Command, number>;
  appliedSet: Set<Command>;
  total: number;
  nextClientMs: number;
  /** A complete applied log learnt from another rank's Farewell. */
  final: Command[] | undefined;
  /** Every client's commands are applied here: the run's outcome (the applied log) is known. */
  finished: boolean;
  /** Terms this rank led, with the votes that made it leader. */
  led: { term: number; votes: number[] }[];
  /** Bumped on every change to the log (for observers). */
  logVersion: number;
  // persistence bookkeeping: first index (0-based) changed since the last write, the length written
  dirtyFrom: number;
  savedLength: number;
  finalSaved: boolean;
}

export const lastLogIndex = (s: RaftState): number => s.log.length;
export const termAt = (s: RaftState, index: number): number => (index <= 0 ? 0 : (s.log[index - 1]?.term ?? -1));
export const majority = (size: number): number => Math.floor(size / 2) + 1;

export function electionTimeout(s: RaftState, nowMs: number, random: number): void {
  const o = s.options;
  s.electionDeadlineMs = nowMs + o.electionMinMs + random * (o.electionMaxMs - o.electionMinMs);
}

export function startRaft(
  rank: number,
  size: number,
  nowMs: number,
  random: number,
  values: Command[][],
  options: RaftOptions = defaultRaftOptions,
  storage?: DurableStorage,
): RaftState {
  const s: RaftState = {
    rank,
    size,
    options,
    currentTerm: 0,
    votedFor: null,
    log: [],
    role: 'follower',
    commitIndex: 0,
    lastApplied: 0,
    applied: [],
    appliedAt: [],
    leaderId: null,
    electionDeadlineMs: 0,
    votes: new Set(),
    nextIndex: new Array<number>(size).fill(1),
    matchIndex: new Array<number>(size).fill(0),
    nextSendMs: new Array<number>(size).fill(0),
    probing: new Array<boolean>(size).fill(true),
    inLog: new Set(),
    values,
    mine: values[rank] ?? [],
    mineFrom: 0,
    sentMs: new Map(),
    appliedSet: new Set(),
    total: values.reduce((n, v) => n + v.length, 0),
    nextClientMs: nowMs,
    final: undefined,
    finished: false,
    led: [],
    logVersion: 0,
    dirtyFrom: Infinity,
    savedLength: 0,
    finalSaved: false,
  };
  const saved = storage?.get<{
    currentTerm: number;
    votedFor: number | null;
    length: number;
  }>('raft');
  if (saved) {
    s.currentTerm = saved.currentTerm;
    s.votedFor = saved.votedFor;
    s.log = range(0, saved.length).map((i) => storage!.get<Entry>(`raft.${i}`)!);
  }
  const final = storage?.get<Command[]>('raft.final');
  if (final) {
    s.final = final;
    s.finalSaved = true;
    s.finished = true;
  }
  s.savedLength = s.log.length;
  electionTimeout(s, nowMs, random);
  return s;
}

/** Writes currentTerm, votedFor and the log (entries from the first one changed, one key each). */
export function persistRaft(s: RaftState, storage: DurableStorage): void {
  for (let i = Math.min(s.dirtyFrom, s.savedLength); i < s.log.length; i++) storage.set(`raft.${i}`, s.log[i]);
  s.dirtyFrom = Infinity;
  s.savedLength = s.log.length;
  storage.set('raft', {
    currentTerm: s.currentTerm,
    votedFor: s.votedFor,
    length: s.log.length,
  });
  if (s.finished && !s.finalSaved) {
    // Finished: a restart after the others have left must still end, with this log.
    storage.set('raft.final', appliedLog(s));
    s.finalSaved = true;
  }
}

/** The applied commands (the state machine), or the complete log learnt at the end. */
export function appliedLog(s: RaftState): Command[] {
  return s.final ?? s.applied;
}

/** E7: a higher term anywhere makes this server a follower of that term, with no vote cast in it. */
export function adoptTerm(s: RaftState, term: number): void {
  if (term <= s.currentTerm) return;
  s.currentTerm = term;
  s.votedFor = null;
  s.role = 'follower';
  s.leaderId = null;
  s.votes.clear();
}
