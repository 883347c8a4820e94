/** The acceptor (book 4.1): promises a ballot at least as high as any it promised, and accepts in it. */
import type { Input, Out } from '../../common/serve.ts';
import { ballotAbove, compareBallots, type Ballot } from '../ballot.ts';
import { Tag } from './messages.ts';
import type { PaxosState } from './state.ts';

/** Phase 1b: Promise, with what this acceptor accepted, or Nack with the ballot it promised. */
export function onPrepare<V>(s: PaxosState<V>, from: number, ballot: Ballot, input: Input, out: Out[]): void {
  if (s.role !== 'acceptor') return;
  const a = s.acceptor;
  // A Prepare of the ballot already promised is a duplicate: answer it again, not with a Nack
  // that would make the proposer give up a ballot that may still win.
  if (compareBallots(ballot, a.promised) >= 0) {
    if (ballotAbove(ballot, a.promised)) input.note?.('promised', ballot);
    a.promised = ballot;
    out.push({ to: from, tag: Tag.Promise, data: { ballot, accepted: a.accepted } });
  } else {
    out.push({ to: from, tag: Tag.Nack, data: { ballot, promised: a.promised } });
  }
}

/** Phase 2b: Accepted to the proposer and to every learner, or Nack. */
export function onAccept<V>(s: PaxosState<V>, from: number, ballot: Ballot, value: V, input: Input, out: Out[]): void {
  if (s.role !== 'acceptor') return;
  const a = s.acceptor;
  if (compareBallots(ballot, a.promised) >= 0) {
    a.promised = ballot;
    a.accepted = { ballot, value };
    input.note?.('accepted', { ballot, value });
    out.push({ to: from, tag: Tag.Accepted, data: { ballot, value } });
    for (const l of s.layout.learners) out.push({ to: l, tag: Tag.Accepted, data: { ballot, value } });
  } else {
    out.push({ to: from, tag: Tag.Nack, data: { ballot, promised: a.promised } });
  }
}
