/** Raft's messages: their tags (from the tag registry) and what each carries. */
import { defineTags } from 'dsmpi';

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
