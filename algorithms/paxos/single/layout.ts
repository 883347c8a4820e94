/** Which rank plays which role: five contiguous blocks, in the book's order. */
import { DsError, ErrorCode } from 'dsmpi';
import { range } from '../../common/serve.ts';

export type Role = 'client' | 'proposer' | 'acceptor' | 'learner' | 'telemetry';

export interface PaxosLayout {
  clients: number[];
  proposers: number[];
  acceptors: number[];
  learners: number[];
  telemetry: number[];
}

/**
 * Role blocks as in the book: with n = 5k, k ranks per role in the order client, proposer, acceptor,
 * learner, telemetry. For other n >= 5, k = floor(n / 5) and the n mod 5 extra ranks join the
 * acceptors (more acceptors tolerate more crashes). Below 5 ranks there is no room for one rank per
 * role: that throws DS_ERR_INVALID_ARGUMENT (the book's program aborted on any n not a multiple of 5).
 */
export function paxosLayout(n: number): PaxosLayout {
  if (!Number.isInteger(n) || n < 5) {
    throw new DsError(
      ErrorCode.InvalidArgument,
      `single-decree Paxos needs at least 5 ranks (client, proposer, acceptor, learner, telemetry), got ${n}`,
    );
  }
  const k = Math.floor(n / 5);
  const extra = n - 5 * k;
  return {
    clients: range(0, k),
    proposers: range(k, 2 * k),
    acceptors: range(2 * k, 3 * k + extra),
    learners: range(3 * k + extra, 4 * k + extra),
    telemetry: range(4 * k + extra, n),
  };
}

/**
 * Only what consensus needs: two proposers (ranks 0 and 1), each with its own value from the start,
 * and the other n − 2 ranks acceptors; no clients, learners or telemetry. The smallest configuration
 * in which two proposers race (the explorer's bug benchmark runs it at n = 5).
 */
export function corePaxosLayout(n: number): PaxosLayout {
  if (!Number.isInteger(n) || n < 3) {
    throw new DsError(ErrorCode.InvalidArgument, `the core Paxos layout needs two proposers and an acceptor, at least 3 ranks, got ${n}`);
  }
  return { clients: [], proposers: [0, 1], acceptors: range(2, n), learners: [], telemetry: [] };
}

export function roleOf(l: PaxosLayout, rank: number): Role {
  if (l.clients.includes(rank)) return 'client';
  if (l.proposers.includes(rank)) return 'proposer';
  if (l.acceptors.includes(rank)) return 'acceptor';
  if (l.learners.includes(rank)) return 'learner';
  return 'telemetry';
}
