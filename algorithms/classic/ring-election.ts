/**
 * Ring election (Chang and Roberts, 1979): ranks form a ring r → r+1; each has an id (default: its
 * rank). An initiator sends Election(its id) round the ring. A rank forwards a larger id, replaces a
 * smaller one by its own if it is not yet a participant, and drops a smaller one if it is. The rank
 * that gets its own id back is the leader (the largest id) and sends Elected(id) round the ring.
 *
 * Messages for one initiator: worst case 3N−1 (the initiator right after the largest id: N−1 hops to
 * reach it, N for its Election to go round, N for Elected), best case 2N (the initiator is the
 * largest).
 */
import { defineTags, type Communicator } from 'dsmpi';
import { Net, type SentCounts } from './common.ts';

export const Tag = defineTags('ring-election', ['Election', 'Elected']);

export interface RingElectionOptions {
  /** Each rank's id (default: its rank). Distinct numbers. */
  ids?: number[];
  /** Ranks that start an election (default [0]). */
  initiators?: number[];
}

export interface RingElectionResult {
  rank: number;
  leader: number;
  sent: SentCounts;
}

/** Messages one election costs when it starts at `initiator`, ids = ranks (the catalogue's rule). */
export function ringElectionMessages(n: number, initiator: number): number {
  const hopsToMax = (n - 1 - initiator + n) % n;
  return hopsToMax + 2 * n;
}

export async function ringElection(comm: Communicator, options: RingElectionOptions = {}): Promise<RingElectionResult> {
  const ids = options.ids ?? Array.from({ length: comm.size }, (_, r) => r);
  const me = ids[comm.rank];
  const net = new Net(comm, Tag);
  const next = (comm.rank + 1) % comm.size;
  const prev = (comm.rank - 1 + comm.size) % comm.size;
  let participant = false;
  if ((options.initiators ?? [0]).includes(comm.rank)) {
    participant = true;
    net.post(next, Tag.Election, { id: me });
  }
  for (;;) {
    const m = await comm.recv<{ id: number }>(prev);
    const { id } = m.data;
    if (m.tag === Tag.Elected) {
      comm.note('leader', id);
      if (id !== me) net.post(next, Tag.Elected, { id });
      return { rank: comm.rank, leader: id, sent: net.sent };
    }
    if (id > me) {
      participant = true;
      net.post(next, Tag.Election, { id });
    } else if (id < me && !participant) {
      participant = true;
      net.post(next, Tag.Election, { id: me });
    } else if (id === me) {
      comm.note('elected', me);
      participant = false;
      net.post(next, Tag.Elected, { id: me });
    }
    // id < me while a participant: a smaller election dies here.
  }
}
