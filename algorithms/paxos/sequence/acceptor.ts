/**
 * The acceptor and learner (Figures 4.3 and 4.4): promises a ballot at least as high as any it
 * promised, with the suffix of its log past the leader's decided length; accepts a leader's entries
 * (the first Accept of a ballot synchronises its log with the leader's); learns decided lengths.
 */
import type { Input, Out } from '../../common/serve.ts';
import { ballotAbove, compareBallots, maxBallot, sameBallot, type Ballot } from '../ballot.ts';
import { Tag, type Value } from './messages.ts';
import { learn, type SequenceState } from './state.ts';

/** Phase 1b: Promise with the accepted ballot and the log past the leader's decided length, or Nack. */
export function onPrepare(s: SequenceState, from: number, d: Record<string, unknown>, input: Input, out: Out[]): void {
  const ballot = d.ballot as Ballot;
  s.seen = maxBallot(s.seen, ballot);
  // A Prepare of the ballot already promised is the leader's resend (its first answer is late
  // or lost, or this is a duplicate): answer it again. A Nack would depose a working leader,
  // and with round trips over retryMs that happened at every ballot, for ever.
  if (compareBallots(ballot, s.promised) >= 0) {
    if (ballotAbove(ballot, s.promised)) input.note?.('promised', ballot);
    s.promised = ballot;
    const from0 = d.ld as number;
    out.push({ to: from, tag: Tag.Promise, data: { ballot, na: s.na, suffix: s.va.slice(from0), ld: s.ld } });
  } else {
    out.push({ to: from, tag: Tag.Nack, data: { ballot, promised: s.promised } });
  }
}

/** Phase 2b: take the leader's entries and answer with the length accepted, or Nack. */
export function onAccept(s: SequenceState, from: number, d: Record<string, unknown>, out: Out[]): void {
  const ballot = d.ballot as Ballot;
  if (compareBallots(ballot, s.promised) < 0) {
    out.push({ to: from, tag: Tag.Nack, data: { ballot, promised: s.promised } });
    return;
  }
  if (!sameBallot(ballot, s.promised)) return; // not promised yet: the leader will Prepare again
  const start = d.start as number;
  const entries = d.entries as Value[];
  if (sameBallot(s.na, ballot)) {
    if (start > s.va.length) return; // a gap: the leader resends from what we acknowledged
    if (start + entries.length > s.va.length) s.dirtyFrom = Math.min(s.dirtyFrom, start);
    entries.forEach((v, i) => (s.va[start + i] = v));
  } else {
    // AcceptSync: the first Accept of this ballot; logs agree up to `start` <= our decided length.
    if (start > s.ld) return;
    s.va = [...s.va.slice(0, start), ...entries];
    s.dirtyFrom = Math.min(s.dirtyFrom, start);
    s.na = ballot;
  }
  s.ld = Math.max(s.ld, Math.min(d.decided as number, s.va.length));
  out.push({ to: from, tag: Tag.Accepted, data: { ballot, length: s.va.length } });
  learn(s);
}

/** The leader's decided length, in the ballot this rank accepted in. */
export function onDecide(s: SequenceState, d: Record<string, unknown>): void {
  if (sameBallot(d.ballot as Ballot, s.na)) {
    s.ld = Math.max(s.ld, Math.min(d.ld as number, s.va.length));
    learn(s);
  }
}
