/**
 * Log replication (5.3) and commit (5.4.2): the leader's AppendEntries to each follower (probing
 * where their logs match, then pipelining), the follower's answer, and the leader's commit index.
 */
import type { Input, Out } from '../common/serve.ts';
import { others } from '../common/serve.ts';
import { appendEntry, applyCommitted, truncate } from './log.ts';
import { Tag, type AppendEntries, type AppendEntriesReply, type Command } from './messages.ts';
import { adoptTerm, electionTimeout, lastLogIndex, majority, termAt, type RaftState } from './state.ts';

export function appendEntriesTo(s: RaftState, peer: number, nowMs: number): Out {
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
export function replicate(s: RaftState, nowMs: number, all: boolean): Out[] {
  const out: Out[] = [];
  for (const p of others(s.rank, s.size)) {
    const lacks = !s.probing[p] && s.nextIndex[p] <= s.log.length;
    if (all || nowMs >= s.nextSendMs[p] || lacks) out.push(appendEntriesTo(s, p, nowMs));
  }
  return out;
}

/** 5.3/5.4.2: the highest N with a majority matchIndex >= N and log[N].term == currentTerm. */
export function advanceCommit(s: RaftState): boolean {
  const sorted = [...s.matchIndex].sort((a, b) => b - a);
  const n = sorted[majority(s.size) - 1];
  if (n > s.commitIndex && termAt(s, n) === s.currentTerm) {
    s.commitIndex = n;
    applyCommitted(s);
    return true;
  }
  return false;
}

export function leaderAppend(s: RaftState, commands: Command[], nowMs: number): Out[] {
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

/** A follower (or a candidate that learns of its term's leader) takes AppendEntries. */
export function onAppendEntries(s: RaftState, from: number, m: AppendEntries, input: Input, out: Out[]): void {
  const now = input.nowMs;
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
    return;
  }
  // The leader of our term: a candidate steps down (E7), and the election timer restarts.
  s.role = 'follower';
  s.leaderId = m.leaderId;
  electionTimeout(s, now, input.random);
  if (m.prevLogIndex > lastLogIndex(s) || termAt(s, m.prevLogIndex) !== m.prevLogTerm) {
    out.push({ to: from, tag: Tag.AppendEntriesReply, data: reply });
    return;
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
}

/** The leader takes a follower's answer: progress, or a refusal to back off from. */
export function onAppendEntriesReply(s: RaftState, from: number, m: AppendEntriesReply, input: Input, out: Out[]): void {
  const now = input.nowMs;
  adoptTerm(s, m.term);
  if (s.role !== 'leader' || m.term !== s.currentTerm) return;
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
    if (m.prevLogIndex < s.matchIndex[from] || (s.probing[from] && m.prevLogIndex !== s.nextIndex[from] - 1)) return;
    // E6: back off by one from the refused request (or to just past the follower's last entry),
    // never below what it is known to hold, and probe again at once.
    s.nextIndex[from] = Math.max(1, s.matchIndex[from] + 1, Math.min(m.prevLogIndex, m.lastLogIndex + 1));
    s.probing[from] = true;
    out.push(appendEntriesTo(s, from, now));
  }
}
