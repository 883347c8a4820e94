/** Single-decree Paxos's messages: their tags (from the tag registry) and what each carries. */
import { defineTags } from 'dsmpi';
import type { Ballot } from '../ballot.ts';

/** The book's PROPOSE..DECIDE, then the recovery messages; numbers come from the tag registry. */
export const Tag = defineTags('single-paxos', [
  'Propose',
  'Promise',
  'Accepted',
  'Nack',
  'Prepare',
  'Accept',
  'Decide',
  'Snapshot',
  'Revert',
  'Restore',
  'Restored',
]);

export interface Accepted<V> {
  ballot: Ballot;
  value: V;
}
export type Msg<V> =
  | { tag: typeof Tag.Propose; value: V }
  | { tag: typeof Tag.Prepare; ballot: Ballot }
  | { tag: typeof Tag.Promise; ballot: Ballot; accepted: Accepted<V> | null }
  | { tag: typeof Tag.Nack; ballot: Ballot; promised: Ballot }
  | { tag: typeof Tag.Accept; ballot: Ballot; value: V }
  | { tag: typeof Tag.Accepted; ballot: Ballot; value: V }
  | { tag: typeof Tag.Decide; value: V; heard: number[] };

/** What telemetry stores: a value put to a vote ('proposed') or a decided one ('decided'). */
export interface Snapshot<V> {
  ballot: Ballot;
  value: V;
  status: 'proposed' | 'decided';
  from: number;
}
