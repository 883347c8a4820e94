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
 */
import { defineTags, type Communicator, type DurableStorage } from 'dsmpi';
import { defaultFarewell, type FarewellOptions } from '../common/farewell.ts';
import { others, range, serve, toAll, type Input, type Machine, type Out } from '../common/serve.ts';

/** Message names; the tag registry gives them numbers no other algorithm uses. */
export const Tag = defineTags('raft', [
  'RequestVote',
  'RequestVoteReply',
  'AppendEntries',
  'AppendEntriesReply',
  'Submit',
  'Redirect',
  'Farewell',
]);

export type Command = string | number;

/** A log entry; `command` null is a leader's no-op. */
export interface Entry {
  term: number;
  command: Command | null;
}

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

export interface RequestVote {
  term: number;
  candidateId: number;
  lastLogIndex: number;
  lastLogTerm: number;
}
export interface RequestVoteReply {
  term: number;
  voteGranted: boolean;
}
export interface AppendEntries {
  term: number;
  leaderId: number;
  prevLogIndex: number;
  prevLogTerm: number;
  entries: Entry[];
  leaderCommit: number;
}
export interface AppendEntriesReply {
  term: number;
  success: boolean;
  /** On success: the index of the last entry now known to match the leader's. */
  matchIndex: number;
  /** The follower's last log index (a hint for the back-off). */
  lastLogIndex: number;
  /** The request's prevLogIndex (a refusal backs off from there). */
  prevLogIndex: number;
}

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

function electionTimeout(s: RaftState, nowMs: number, random: number): void {
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

function truncate(s: RaftState, length: number): void {
  if (length >= s.log.length) return;
  for (let i = length; i < s.log.length; i++) {
    const c = s.log[i].command;
    if (c !== null) s.inLog.delete(c);
  }
  s.log.length = length;
  s.dirtyFrom = Math.min(s.dirtyFrom, length);
  s.logVersion++;
}

function appendEntry(s: RaftState, e: Entry): void {
  s.dirtyFrom = Math.min(s.dirtyFrom, s.log.length);
  s.log.push(e);
  if (e.command !== null) s.inLog.add(e.command);
  s.logVersion++;
}

/** E7: a higher term anywhere makes this server a follower of that term, with no vote cast in it. */
function adoptTerm(s: RaftState, term: number): void {
  if (term <= s.currentTerm) return;
  s.currentTerm = term;
  s.votedFor = null;
  s.role = 'follower';
  s.leaderId = null;
  s.votes.clear();
}

function applyCommitted(s: RaftState): void {
  while (s.lastApplied < s.commitIndex) {
    s.lastApplied++;
    const c = s.log[s.lastApplied - 1].command;
    if (c === null) continue;
    s.applied.push(c);
    s.appliedAt.push(s.lastApplied);
    s.appliedSet.add(c);
  }
  if (s.total > 0 && appliedLog(s).length >= s.total) s.finished = true;
}

function appendEntriesTo(s: RaftState, peer: number, nowMs: number): Out {
  const prevLogIndex = s.nextIndex[peer] - 1;
  const entries = s.log.slice(prevLogIndex, prevLogIndex + s.options.maxEntries);
  s.nextSendMs[peer] = nowMs + s.options.heartbeatMs;
  // Pipelining (as etcd raft's replicate state): assume it arrives; a refusal moves nextIndex back.
  // While probing, a lost request must not undo the back-off: nextIndex stays until a reply.
  if (!s.probing[peer]) s.nextIndex[peer] = prevLogIndex + entries.length + 1;
  const data: AppendEntries = {
    term: s.currentTerm,
    leaderId: s.rank,
    prevLogIndex,
    prevLogTerm: termAt(s, prevLogIndex),
    entries,
    leaderCommit: s.commitIndex,
  };
  return { to: peer, tag: Tag.AppendEntries, data };
}

/** The leader sends what each follower lacks (or a heartbeat when `all`). */
function replicate(s: RaftState, nowMs: number, all: boolean): Out[] {
  const out: Out[] = [];
  for (const p of others(s.rank, s.size)) {
    const lacks = !s.probing[p] && s.nextIndex[p] <= s.log.length;
    if (all || nowMs >= s.nextSendMs[p] || lacks) out.push(appendEntriesTo(s, p, nowMs));
  }
  return out;
}

function startElection(s: RaftState, nowMs: number, random: number): Out[] {
  s.currentTerm++;
  s.role = 'candidate';
  s.votedFor = s.rank;
  s.leaderId = null;
  s.votes = new Set([s.rank]);
  electionTimeout(s, nowMs, random);
  const rv: RequestVote = {
    term: s.currentTerm,
    candidateId: s.rank,
    lastLogIndex: lastLogIndex(s),
    lastLogTerm: termAt(s, lastLogIndex(s)),
  };
  const out = toAll(others(s.rank, s.size), Tag.RequestVote, rv);
  return [...out, ...maybeWin(s, nowMs)];
}

function maybeWin(s: RaftState, nowMs: number): Out[] {
  if (s.role !== 'candidate' || s.votes.size < majority(s.size)) return [];
  s.role = 'leader';
  s.leaderId = s.rank;
  s.led.push({
    term: s.currentTerm,
    votes: [...s.votes].sort((a, b) => a - b),
  });
  s.nextIndex.fill(s.log.length + 1);
  s.matchIndex.fill(0);
  s.probing.fill(true);
  s.inLog = new Set(s.log.flatMap((e) => (e.command === null ? [] : [e.command])));
  appendEntry(s, { term: s.currentTerm, command: null }); // the no-op that commits earlier terms' entries
  s.matchIndex[s.rank] = s.log.length;
  advanceCommit(s);
  return replicate(s, nowMs, true);
}

/** 5.3/5.4.2: the highest N with a majority matchIndex >= N and log[N].term == currentTerm. */
function advanceCommit(s: RaftState): boolean {
  const sorted = [...s.matchIndex].sort((a, b) => b - a);
  const n = sorted[majority(s.size) - 1];
  if (n > s.commitIndex && termAt(s, n) === s.currentTerm) {
    s.commitIndex = n;
    applyCommitted(s);
    return true;
  }
  return false;
}

function leaderAppend(s: RaftState, commands: Command[], nowMs: number): Out[] {
  let added = false;
  for (const c of commands) {
    if (s.inLog.has(c) || s.appliedSet.has(c)) continue;
    appendEntry(s, { term: s.currentTerm, command: c });
    added = true;
  }
  if (!added) return [];
  s.matchIndex[s.rank] = s.log.length;
  advanceCommit(s); // n = 1
  return replicate(s, nowMs, false);
}

export function stepRaft(s: RaftState, input: Input): [RaftState, Out[]] {
  const before = { role: s.role, term: s.currentTerm, commitIndex: s.commitIndex };
  const result = stepRole(s, input);
  // What the step changed, as notes in the trace: an election begun or won, entries committed.
  if (s.role !== before.role || s.currentTerm !== before.term) input.note?.(s.role, { term: s.currentTerm });
  if (s.commitIndex > before.commitIndex) input.note?.('committed', { index: s.commitIndex, term: s.currentTerm });
  return result;
}

function stepRole(s: RaftState, input: Input): [RaftState, Out[]] {
  const out: Out[] = [];
  const now = input.nowMs;
  if (input.type === 'tick') {
    onTick(s, input, out);
    return [s, out];
  }
  const from = input.source;
  const d = input.data as Record<string, unknown>;
  if (input.tag === Tag.Farewell) {
    const log = d.log as Command[];
    if (log.length > appliedLog(s).length) s.final = log;
    if (appliedLog(s).length >= s.total) s.finished = true;
    return [s, out];
  }
  if (s.finished) return [s, out];
  const appliedBefore = s.applied.length;
  switch (input.tag) {
    case Tag.RequestVote: {
      const m = d as unknown as RequestVote;
      adoptTerm(s, m.term);
      const myLastTerm = termAt(s, lastLogIndex(s));
      const upToDate = m.lastLogTerm > myLastTerm || (m.lastLogTerm === myLastTerm && m.lastLogIndex >= lastLogIndex(s));
      const grant = m.term === s.currentTerm && (s.votedFor === null || s.votedFor === m.candidateId) && upToDate;
      if (grant) {
        s.votedFor = m.candidateId;
        electionTimeout(s, now, input.random);
      }
      const reply: RequestVoteReply = {
        term: s.currentTerm,
        voteGranted: grant,
      };
      out.push({ to: from, tag: Tag.RequestVoteReply, data: reply });
      break;
    }
    case Tag.RequestVoteReply: {
      const m = d as unknown as RequestVoteReply;
      adoptTerm(s, m.term);
      if (m.term !== s.currentTerm || !m.voteGranted) break;
      if (s.role === 'candidate') {
        s.votes.add(from);
        out.push(...maybeWin(s, now));
      } else if (s.role === 'leader') {
        // A vote after the win: noted, for the record of who voted.
        const won = s.led[s.led.length - 1];
        if (!won.votes.includes(from)) won.votes = [...won.votes, from].sort((a, b) => a - b);
      }
      break;
    }
    case Tag.AppendEntries: {
      const m = d as unknown as AppendEntries;
      adoptTerm(s, m.term);
      const reply: AppendEntriesReply = {
        term: s.currentTerm,
        success: false,
        matchIndex: 0,
        lastLogIndex: lastLogIndex(s),
        prevLogIndex: m.prevLogIndex,
      };
      if (m.term < s.currentTerm) {
        out.push({ to: from, tag: Tag.AppendEntriesReply, data: reply });
        break;
      }
      // The leader of our term: a candidate steps down (E7), and the election timer restarts.
      s.role = 'follower';
      s.leaderId = m.leaderId;
      electionTimeout(s, now, input.random);
      if (m.prevLogIndex > lastLogIndex(s) || termAt(s, m.prevLogIndex) !== m.prevLogTerm) {
        out.push({ to: from, tag: Tag.AppendEntriesReply, data: reply });
        break;
      }
      // Figure 2, receiver rule 3-4: delete a conflicting entry and all after it; append new ones.
      m.entries.forEach((e, k) => {
        const index = m.prevLogIndex + 1 + k;
        if (index <= s.log.length && s.log[index - 1].term !== e.term) truncate(s, index - 1);
        if (index > s.log.length) appendEntry(s, e);
      });
      const matchIndex = m.prevLogIndex + m.entries.length;
      const commit = Math.min(m.leaderCommit, matchIndex);
      if (commit > s.commitIndex) {
        s.commitIndex = commit;
        applyCommitted(s);
      }
      out.push({
        to: from,
        tag: Tag.AppendEntriesReply,
        data: {
          ...reply,
          success: true,
          matchIndex,
          lastLogIndex: lastLogIndex(s),
        },
      });
      break;
    }
    case Tag.AppendEntriesReply: {
      const m = d as unknown as AppendEntriesReply;
      adoptTerm(s, m.term);
      if (s.role !== 'leader' || m.term !== s.currentTerm) break;
      if (m.success) {
        if (m.matchIndex > s.matchIndex[from]) s.matchIndex[from] = m.matchIndex;
        s.nextIndex[from] = Math.max(s.nextIndex[from], m.matchIndex + 1);
        s.probing[from] = false;
        if (advanceCommit(s))
          out.push(...replicate(s, now, true)); // tell the followers at once
        else if (s.nextIndex[from] <= s.log.length) out.push(appendEntriesTo(s, from, now));
      } else {
        // A refusal of an older request (duplicated, overtaken, or below what the follower is known
        // to hold) says nothing new: acting on it would move nextIndex forward again.
        if (m.prevLogIndex < s.matchIndex[from] || (s.probing[from] && m.prevLogIndex !== s.nextIndex[from] - 1)) break;
        // E6: back off by one from the refused request (or to just past the follower's last entry),
        // never below what it is known to hold, and probe again at once.
        s.nextIndex[from] = Math.max(1, s.matchIndex[from] + 1, Math.min(m.prevLogIndex, m.lastLogIndex + 1));
        s.probing[from] = true;
        out.push(appendEntriesTo(s, from, now));
      }
      break;
    }
    case Tag.Submit: {
      const commands = d.commands as Command[];
      if (s.role === 'leader') out.push(...leaderAppend(s, commands, now));
      else if (s.leaderId !== null && s.leaderId !== s.rank)
        out.push({
          to: from,
          tag: Tag.Redirect,
          data: { leader: s.leaderId, commands },
        });
      break;
    }
    case Tag.Redirect: {
      // A client sent to a server that is not the leader: try the one it names.
      const leader = d.leader as number;
      if (leader === s.rank) out.push(...(s.role === 'leader' ? leaderAppend(s, d.commands as Command[], now) : []));
      else
        out.push({
          to: leader,
          tag: Tag.Submit,
          data: { commands: d.commands },
        });
      break;
    }
  }
  if (s.applied.length > appliedBefore) pump(s, now, out); // a command of ours may be done: send the next at once
  return [s, out];
}

/** Client: keep up to `window` own commands in flight at the leader this server knows, resend late ones. */
function pump(s: RaftState, nowMs: number, out: Out[]): void {
  if (s.finished || s.leaderId === null) return;
  const batch: Command[] = [];
  let inFlight = 0;
  while (s.mineFrom < s.mine.length && s.appliedSet.has(s.mine[s.mineFrom])) s.mineFrom++;
  for (let i = s.mineFrom; i < s.mine.length; i++) {
    const c = s.mine[i];
    if (s.appliedSet.has(c)) continue;
    if (inFlight++ >= s.options.window) break;
    const sent = s.sentMs.get(c);
    if (sent === undefined || nowMs - sent >= s.options.retryMs) {
      s.sentMs.set(c, nowMs);
      batch.push(c);
    }
  }
  if (batch.length === 0) return;
  if (s.leaderId === s.rank) out.push(...leaderAppend(s, batch, nowMs));
  else out.push({ to: s.leaderId, tag: Tag.Submit, data: { commands: batch } });
}

function onTick(s: RaftState, input: Extract<Input, { type: 'tick' }>, out: Out[]): void {
  const now = input.nowMs;
  if (s.finished) return; // serve() announces the log (Farewell) until the run ends
  if (s.role === 'leader') {
    out.push(...replicate(s, now, false));
  } else if (now >= s.electionDeadlineMs) {
    out.push(...startElection(s, now, input.random));
  }
  if (now >= s.nextClientMs) {
    s.nextClientMs = now + s.options.retryMs / 2;
    // The lowest live rank also submits the commands of clients the runtime reports dead.
    const live = range(0, s.size).filter((r) => !input.failed.includes(r));
    const adopted = live[0] === s.rank ? input.failed.flatMap((r) => s.values[r] ?? []) : [];
    if (adopted.length > 0 && s.mine.length !== s.values[s.rank].length + adopted.length) {
      s.mine = [...s.values[s.rank], ...adopted];
      s.mineFrom = 0;
    }
    pump(s, now, out);
  }
}

export function raftWakeAt(s: RaftState): number {
  if (s.finished) return Infinity;
  const protocol = s.role === 'leader' ? Math.min(...others(s.rank, s.size).map((p) => s.nextSendMs[p])) : s.electionDeadlineMs;
  return Math.min(protocol, s.nextClientMs);
}

export const raftMachine: Machine<RaftState> = {
  step: stepRaft,
  wakeAtMs: raftWakeAt,
  done: () => false,
  persist: persistRaft,
  farewell: { tag: Tag.Farewell, options: (s) => s.options.farewell, outcome: (s) => (s.finished ? { log: appliedLog(s) } : undefined) },
};

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
