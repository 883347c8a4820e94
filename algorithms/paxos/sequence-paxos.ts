/**
 * Sequence Paxos: a log of values decided in order (book 4.1, figures 4.3 to 4.5; the port of
 * sequence-paxos4.c, spec 2.13, and the book's exercise 1: any n >= 3, several clients, several
 * proposers over time).
 *
 * Every rank is an acceptor and a learner, and a client with its own values to append. The proposer
 * is the leader: the lowest rank its failure detector (failure-detector.ts, embedded) does not
 * suspect. A new leader runs phase 1 once for the whole log: Prepare(ballot, ld) to all; each
 * acceptor answers Promise with its accepted ballot na and the suffix of its log past the leader's
 * decided length; with a majority the leader adopts the suffix of the highest (na, length), so every
 * value that may have been chosen is kept, and sends each acceptor AcceptSync (an Accept from the
 * index where their logs agree). From then on each new value costs one round trip: Accept to all,
 * Accepted back, and the leader decides an index once a majority holds it (Decide). Values go out as
 * they come, without waiting for earlier ones (pipelining). A leader that gets Nack, or a rank that
 * stops trusting it, steps down; the next trusted rank takes over with a higher ballot.
 *
 * The prefix invariant: a learner's decided log va[0..ld) only grows, and any two learners' decided
 * logs are prefixes of one another. When a rank has decided all `size * perClient` values it
 * announces its log (Farewell) and leaves as common/farewell.ts describes (serve() runs it).
 *
 * Files (sequence/): messages.ts (tags and values), state.ts (a rank's state, start, persistence,
 * what it learns), acceptor.ts, leader.ts, client.ts (the roles), step.ts (the machine).
 */
import type { Communicator } from 'dsmpi';
import { defaultSequenceOptions, decidedLog, startSequence, type SequenceOptions } from './sequence/state.ts';
import { range, serve } from '../common/serve.ts';
import type { Value } from './sequence/messages.ts';
import { sequenceMachine, stepSequence } from './sequence/step.ts';

export { decidedLog, defaultSequenceOptions, persistSequence, startSequence, trustedLeader } from './sequence/state.ts';
export type { LeaderState, SequenceOptions, SequenceState } from './sequence/state.ts';
export * from './sequence/messages.ts';
export { sequenceMachine, sequenceWakeAt, stepSequence } from './sequence/step.ts';

export interface SequenceOutcome {
  rank: number;
  log: Value[];
  /** Ballots in which this rank became leader. */
  led: string[];
  falseSuspicions: number;
}

/**
 * Runs this rank (acceptor, learner, client, and proposer when trusted) until every value of every
 * client is decided. `values(rank)` are the values that rank's client appends. `observe` sees each
 * new decided log (for invariant checks in tests).
 */
export async function sequencePaxosMain(
  comm: Communicator,
  values: (rank: number) => Value[],
  options: SequenceOptions = defaultSequenceOptions,
  observe?: (rank: number, log: Value[], nowMs: number) => void,
): Promise<SequenceOutcome> {
  const all = range(0, comm.size).map(values);
  const state = startSequence(comm.rank, comm.size, comm.clock.now(), all, options, comm.storage);
  let machine = sequenceMachine;
  if (observe) {
    let seen = -1;
    machine = {
      ...sequenceMachine,
      step(st, input) {
        const r = stepSequence(st, input);
        const log = decidedLog(st);
        if (log.length !== seen) {
          seen = log.length;
          observe(st.rank, log, input.nowMs);
        }
        return r;
      },
    };
  }
  const s = await serve(comm, machine, state);
  return { rank: s.rank, log: decidedLog(s), led: s.led, falseSuspicions: s.detector.falseSuspicions };
}
