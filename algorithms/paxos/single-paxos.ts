/**
 * Single-decree Paxos with a telemetry (snapshot) role: the port of the book's
 * single-paxos3-snapshot.c (book 4.1 and 4.4; spec 2.14), with the intent kept and the bugs left out.
 *
 * Roles sit in five contiguous blocks of ranks, in the book's order: clients, proposers, acceptors,
 * learners, telemetry (`paxosLayout`). Each client proposes its own value to every proposer; each
 * proposer runs Paxos with the first value it got, so several proposers compete with different
 * values. Ballots are (counter, rank) pairs; a proposer needs Promise from a majority of acceptors,
 * adopts the value of the highest ballot any of them accepted, and on Nack (or silence) retries with
 * a higher ballot after a randomised, growing backoff. Acceptors send Accepted to the proposer and to
 * every learner; a learner decides on a majority of Accepted for one ballot, or on Decide. Learners
 * send the decided record to telemetry as a Snapshot; proposers snapshot each value they put to a
 * vote and send Revert when that ballot is abandoned. Telemetry keeps snapshots in durable storage
 * and answers Restore, so a restarted learner gets the last good state back (the 4.4 idea).
 *
 * Everyone who knows the decision announces it with Decide (serve() runs the farewell of
 * Everyone who knows the decision announces it with Decide (serve() runs the farewell of
 * common/farewell.ts) and leaves once all ranks have announced it: every rank ends, and prints
 * `decided <value>` last.
 *
 * Files (single/): messages.ts (tags and message types), layout.ts (who plays which role), state.ts
 * (a rank's state, start, persistence), proposer.ts, acceptor.ts, learner.ts, telemetry.ts (the
 * roles), step.ts (the machine).
 */
import type { Communicator } from 'dsmpi';
import { serve } from '../common/serve.ts';
import { formatBallot } from './ballot.ts';
import { paxosLayout, type Role } from './single/layout.ts';
import type { Snapshot } from './single/messages.ts';
import { defaultPaxosOptions, startPaxos } from './single/state.ts';
import { paxosMachine } from './single/step.ts';

export * from './single/layout.ts';
export * from './single/messages.ts';
export { defaultPaxosOptions, persistPaxos, startPaxos } from './single/state.ts';
export type { AcceptorState, PaxosOptions, PaxosState, ProposerState } from './single/state.ts';
export { paxosMachine, paxosWakeAt, stepPaxos } from './single/step.ts';
export { lastGood } from './single/telemetry.ts';

export interface PaxosOutcome<V> {
  rank: number;
  role: Role;
  decided: V | undefined;
  /** Proposers: the ballot they last used, attempts and Nacks received. */
  ballot?: string;
  attempts?: number;
  nacks?: number;
  /** Telemetry: the snapshots it keeps. Learners: the telemetry rank it restored from, if any. */
  snapshots?: Snapshot<V>[];
  restoredFrom?: number;
}

/**
 * Runs this rank's role until everyone knows the decision. `clientValue(rank)` is the value a client
 * rank proposes. Returns the rank's outcome; prints nothing.
 */
export async function singlePaxosMain<V>(
  comm: Communicator,
  clientValue: (rank: number) => V,
  options = defaultPaxosOptions,
): Promise<PaxosOutcome<V>> {
  const layout = (options.layout ?? paxosLayout)(comm.size);
  // The clients' values; without clients, the proposers' own.
  const proposing = layout.clients.length > 0 ? layout.clients : layout.proposers;
  const mine = proposing.includes(comm.rank) ? clientValue(comm.rank) : undefined;
  const [state, first] = startPaxos<V>(comm.rank, comm.size, comm.clock.now(), mine, options, comm.storage);
  for (const m of first) void comm.isend(m.data, m.to, m.tag).then(undefined, () => undefined);
  const s = await serve(comm, paxosMachine<V>(), state);
  const outcome: PaxosOutcome<V> = { rank: s.rank, role: s.role, decided: s.decided?.value };
  if (s.role === 'proposer')
    Object.assign(outcome, { ballot: formatBallot(s.proposer.ballot), attempts: s.proposer.attempts, nacks: s.proposer.nacks });
  if (s.role === 'telemetry') outcome.snapshots = s.snapshots;
  if (s.role === 'learner' && s.restoredFrom !== undefined) outcome.restoredFrom = s.restoredFrom;
  return outcome;
}
