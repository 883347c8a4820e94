/**
 * Leader election (5.2, 5.4.1): a follower whose election timeout passes stands as a candidate; a
 * server grants one vote per term, to a candidate whose log is at least as up to date as its own;
 * votes from a majority make a leader, which appends a no-op of its term and starts replicating.
 */
import type { Input, Out } from '../common/serve.ts';
import { others, toAll } from '../common/serve.ts';
import { appendEntry } from './log.ts';
import { Tag, type RequestVote, type RequestVoteReply } from './messages.ts';
import { advanceCommit, replicate } from './replication.ts';
import { adoptTerm, electionTimeout, lastLogIndex, majority, termAt, type RaftState } from './state.ts';

export function startElection(s: RaftState, nowMs: number, random: number): Out[] {
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

export function maybeWin(s: RaftState, nowMs: number): Out[] {
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

/** A candidate asks for this server's vote. */
export function onRequestVote(s: RaftState, from: number, m: RequestVote, input: Input, out: Out[]): void {
  const now = input.nowMs;
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
}

/** A vote (or a refusal) for this server's candidacy. */
export function onRequestVoteReply(s: RaftState, from: number, m: RequestVoteReply, input: Input, out: Out[]): void {
  const now = input.nowMs;
  adoptTerm(s, m.term);
  if (m.term !== s.currentTerm || !m.voteGranted) return;
  if (s.role === 'candidate') {
    s.votes.add(from);
    out.push(...maybeWin(s, now));
  } else if (s.role === 'leader') {
    // A vote after the win: noted, for the record of who voted.
    const won = s.led[s.led.length - 1];
    if (!won.votes.includes(from)) won.votes = [...won.votes, from].sort((a, b) => a - b);
  }
}
