/**
 * Telemetry (book 4.4): keeps the snapshots proposers and learners send (a value put to a vote, a
 * decided one), drops those of an abandoned ballot, and answers Restore with the last good one.
 */
import type { Out } from '../../common/serve.ts';
import { sameBallot, type Ballot } from '../ballot.ts';
import { Tag, type Snapshot } from './messages.ts';
import type { PaxosState } from './state.ts';

/** The last known-good state telemetry holds: the latest decided snapshot. */
export function lastGood<V>(snapshots: readonly Snapshot<V>[]): Snapshot<V> | undefined {
  return snapshots.filter((x) => x.status === 'decided').at(-1);
}

export function onSnapshot<V>(s: PaxosState<V>, snap: Snapshot<V>): void {
  if (s.role !== 'telemetry') return;
  if (!s.snapshots.some((x) => sameBallot(x.ballot, snap.ballot) && x.status === snap.status)) s.snapshots.push(snap);
}

export function onRevert<V>(s: PaxosState<V>, ballot: Ballot): void {
  if (s.role !== 'telemetry') return;
  s.snapshots = s.snapshots.filter((x) => x.status === 'decided' || !sameBallot(x.ballot, ballot));
}

export function onRestore<V>(s: PaxosState<V>, from: number, out: Out[]): void {
  if (s.role !== 'telemetry') return;
  const last = lastGood(s.snapshots);
  out.push({ to: from, tag: Tag.Restored, data: { snapshot: last ?? null } });
}
