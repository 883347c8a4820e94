/** The log of a Raft server: entries appended and truncated (kept ready for persisting), and applied once committed. */
import type { Entry } from './messages.ts';
import { appliedLog, type RaftState } from './state.ts';

export function truncate(s: RaftState, length: number): void {
  if (length >= s.log.length) return;
  for (let i = length; i < s.log.length; i++) {
    const c = s.log[i].command;
    if (c !== null) s.inLog.delete(c);
  }
  s.log.length = length;
  s.dirtyFrom = Math.min(s.dirtyFrom, length);
  s.logVersion++;
}

export function appendEntry(s: RaftState, e: Entry): void {
  s.dirtyFrom = Math.min(s.dirtyFrom, s.log.length);
  s.log.push(e);
  if (e.command !== null) s.inLog.add(e.command);
  s.logVersion++;
}

export function applyCommitted(s: RaftState): void {
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
