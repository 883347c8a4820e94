/**
 * Raft's step: every message and tick of a server, dispatched to its roles (election.ts,
 * replication.ts, client.ts), with the trace notes of what changed; when it wakes; the machine
 * serve() runs, which ends with the farewell once every client's commands are applied here.
 */
import { others, type Input, type Machine, type Out } from '../common/serve.ts';
import { clientTick, onRedirect, onSubmit, pump } from './client.ts';
import { onRequestVote, onRequestVoteReply, startElection } from './election.ts';
import { Tag, type AppendEntries, type AppendEntriesReply, type Command, type RequestVote, type RequestVoteReply } from './messages.ts';
import { onAppendEntries, onAppendEntriesReply, replicate } from './replication.ts';
import { appliedLog, persistRaft, type RaftState } from './state.ts';

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
    case Tag.RequestVote:
      onRequestVote(s, from, d as unknown as RequestVote, input, out);
      break;
    case Tag.RequestVoteReply:
      onRequestVoteReply(s, from, d as unknown as RequestVoteReply, input, out);
      break;
    case Tag.AppendEntries:
      onAppendEntries(s, from, d as unknown as AppendEntries, input, out);
      break;
    case Tag.AppendEntriesReply:
      onAppendEntriesReply(s, from, d as unknown as AppendEntriesReply, input, out);
      break;
    case Tag.Submit:
      onSubmit(s, from, d, input, out);
      break;
    case Tag.Redirect:
      onRedirect(s, d, input, out);
      break;
  }
  if (s.applied.length > appliedBefore) pump(s, input.nowMs, out); // a command of ours may be done: send the next at once
  return [s, out];
}

function onTick(s: RaftState, input: Extract<Input, { type: 'tick' }>, out: Out[]): void {
  const now = input.nowMs;
  if (s.finished) return; // serve() announces the log (Farewell) until the run ends
  if (s.role === 'leader') {
    out.push(...replicate(s, now, false));
  } else if (now >= s.electionDeadlineMs) {
    out.push(...startElection(s, now, input.random));
  }
  clientTick(s, input, out);
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
