/**
 * The learner (book 4.1 and 4.4): decides on Accepted from a majority of acceptors for one ballot
 * and snapshots the decision to telemetry; a restarted learner asks telemetry for the last good
 * state (Restore) and takes a decided one from its answer.
 */
import type { Out } from '../../common/serve.ts';
import { toAll } from '../../common/serve.ts';
import { majority, type Ballot } from '../ballot.ts';
import { Tag, type Snapshot } from './messages.ts';
import { decide, type PaxosState } from './state.ts';

const key = (b: Ballot): string => `${b[0]}.${b[1]}`;

/** An acceptor's Accepted: a majority for one ballot decides. */
export function onAcceptedByLearner<V>(s: PaxosState<V>, from: number, ballot: Ballot, value: V, out: Out[]): void {
  const k = key(ballot);
  const v = s.votes.get(k) ?? { value, from: new Set<number>() };
  v.from.add(from);
  s.votes.set(k, v);
  if (!s.decided && v.from.size >= majority(s.layout.acceptors.length)) {
    decide(s, value);
    out.push(...toAll(s.layout.telemetry, Tag.Snapshot, { ballot, value, status: 'decided', from: s.rank }));
  }
}

/** Telemetry's answer to Restore: a decided snapshot is the decision. */
export function onRestored<V>(s: PaxosState<V>, from: number, snapshot: Snapshot<V> | null): void {
  if (snapshot && snapshot.status === 'decided' && !s.decided) {
    s.restoredFrom = from;
    decide(s, snapshot.value);
  }
}
