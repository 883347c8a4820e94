/**
 * Three-phase commit (book 4.6.1; exercise 2 of 8.6). Rank 0 coordinates.
 *
 *   CanCommit → Vote{yes|no} → (all yes) PreCommit → Ack → DoCommit → HaveCommitted
 *   any no, a missing vote or a missing Ack (timeouts) → DoAbort to all
 *
 * Participant states: INIT → WAIT (voted yes) → PRECOMMITTED → COMMITTED, or ABORTED.
 * Timeout rules (the exercise's): waiting for CanCommit or for PreCommit → ABORTED; PRECOMMITTED and
 * no word from the coordinator → COMMITTED. So a coordinator crash never blocks anyone.
 *
 * These rules are safe only under their timing assumptions: messages arrive within a known bound and
 * are not lost, ranks crash-stop, and the coordinator does not crash in the middle of sending
 * PreCommit or DoAbort to the participants. The timeouts are set so that a coordinator's DoAbort
 * (sent at most voteTimeoutMs + ackTimeoutMs after the start) reaches PRECOMMITTED participants long
 * before their precommitTimeoutMs. With message loss or partitions 3PC can decide both ways (a
 * participant cut off while PRECOMMITTED commits while the others abort): that is the known price of
 * not blocking, and why the tests check its atomicity only within those assumptions.
 */
import { defineTags, type Communicator } from 'dsmpi';
import { recvWithin } from '../common/recv-within.ts';
import { participantsOf, sendAll, type CommitOutcome, type CommitResult } from './common.ts';

export const Tag = defineTags('three-phase-commit', ['CanCommit', 'Vote', 'PreCommit', 'Ack', 'DoCommit', 'DoAbort', 'HaveCommitted']);

export interface ThreePhaseCommitOptions {
  vote?: (rank: number) => boolean;
  /** Coordinator: wait for votes (default 200 ms). */
  voteTimeoutMs?: number;
  /** Coordinator: wait for Acks of PreCommit (default 200 ms). */
  ackTimeoutMs?: number;
  /** Participant: wait for CanCommit, then abort (default 600 ms). */
  canCommitTimeoutMs?: number;
  /** Participant in WAIT: wait for PreCommit, then abort (default 600 ms). */
  preCommitTimeoutMs?: number;
  /** Participant PRECOMMITTED: wait for DoCommit/DoAbort, then commit (default 1500 ms). */
  commitTimeoutMs?: number;
  /** Coordinator: wait for HaveCommitted after DoCommit (default 300 ms). */
  haveCommittedTimeoutMs?: number;
  /** Scenario: the coordinator stops for good right after sending PreCommit to everyone. */
  coordinatorStops?: 'after-precommit' | 'before-decision';
  /** Scenario: this participant is unresponsive this long at the start. */
  silentMs?: number;
  /** Scenario: the coordinator takes this long to send DoCommit once every Ack is in (default 0). */
  decisionDelayMs?: number;
  onTransition?: (state: string) => void;
}

export async function threePhaseCommit(comm: Communicator, options: ThreePhaseCommitOptions = {}): Promise<CommitResult> {
  if (comm.size < 2) {
    const history = ['INIT', 'COMMITTED'];
    history.forEach((s) => options.onTransition?.(s));
    return { rank: comm.rank, role: 'coordinator', outcome: 'COMMITTED', history };
  }
  return comm.rank === 0 ? coordinator(comm, options) : participant(comm, options);
}

async function coordinator(comm: Communicator, o: ThreePhaseCommitOptions): Promise<CommitResult> {
  const history: string[] = [];
  const enter = (s: string): void => {
    history.push(s);
    comm.note(s);
    o.onTransition?.(s);
  };
  const result = (outcome: CommitOutcome): CommitResult => ({ rank: comm.rank, role: 'coordinator', outcome, history });
  const participants = participantsOf(comm);

  /** Collects one reply of `tag` from every participant, until the deadline. */
  const collect = async (tag: number, timeoutMs: number, accept: (data: unknown) => boolean): Promise<{ ok: boolean }> => {
    const got = new Set<number>();
    const deadline = comm.clock.now() + timeoutMs;
    while (got.size < participants.length) {
      const m = await recvWithin(comm, deadline - comm.clock.now());
      if (!m) return { ok: false };
      if (m.tag !== tag) continue;
      if (!accept(m.data)) return { ok: false };
      got.add(m.source);
    }
    return { ok: true };
  };
  const abort = async (): Promise<CommitResult> => {
    enter('ABORTED');
    await sendAll(comm, null, participants, Tag.DoAbort);
    return result('ABORTED');
  };

  enter('INIT');
  await sendAll(comm, null, participants, Tag.CanCommit);
  enter('WAIT');
  const votes = await collect(Tag.Vote, o.voteTimeoutMs ?? 200, (v) => v === 'yes');
  if (o.coordinatorStops === 'before-decision') {
    enter('CRASHED');
    return result('CRASHED');
  }
  if (!votes.ok) return abort();
  enter('PRECOMMITTED');
  await sendAll(comm, null, participants, Tag.PreCommit);
  if (o.coordinatorStops === 'after-precommit') {
    enter('CRASHED');
    return result('CRASHED');
  }
  const acks = await collect(Tag.Ack, o.ackTimeoutMs ?? 200, () => true);
  if (!acks.ok) return abort();
  if (o.decisionDelayMs) await comm.clock.sleep(o.decisionDelayMs);
  enter('COMMITTED');
  await sendAll(comm, null, participants, Tag.DoCommit);
  await collect(Tag.HaveCommitted, o.haveCommittedTimeoutMs ?? 300, () => true);
  return result('COMMITTED');
}

async function participant(comm: Communicator, o: ThreePhaseCommitOptions): Promise<CommitResult> {
  const history: string[] = [];
  const enter = (s: string): void => {
    history.push(s);
    comm.note(s);
    o.onTransition?.(s);
  };
  let vote: 'yes' | 'no' | undefined;
  const done = (outcome: CommitOutcome): CommitResult => {
    enter(outcome);
    return { rank: comm.rank, role: 'participant', outcome, vote, history };
  };
  /** The next message of one of `tags` (others are dropped), or undefined on timeout. */
  const await_ = async (tags: number[], timeoutMs: number): Promise<number | undefined> => {
    const deadline = comm.clock.now() + timeoutMs;
    for (;;) {
      const m = await recvWithin(comm, deadline - comm.clock.now());
      if (!m) return undefined;
      if (tags.includes(m.tag)) return m.tag;
    }
  };

  enter('INIT');
  if (o.silentMs) await comm.clock.sleep(o.silentMs);
  const first = await await_([Tag.CanCommit, Tag.DoAbort], o.canCommitTimeoutMs ?? 600);
  if (first !== Tag.CanCommit) return done('ABORTED'); // timeout or abort before voting
  vote = (o.vote ?? (() => true))(comm.rank) ? 'yes' : 'no';
  comm.note('vote', vote);
  await sendAll(comm, vote, [0], Tag.Vote);
  if (vote === 'no') return done('ABORTED');
  enter('WAIT');
  const second = await await_([Tag.PreCommit, Tag.DoAbort], o.preCommitTimeoutMs ?? 600);
  if (second !== Tag.PreCommit) return done('ABORTED'); // timeout in WAIT → abort
  enter('PRECOMMITTED');
  await sendAll(comm, null, [0], Tag.Ack);
  const third = await await_([Tag.DoCommit, Tag.DoAbort], o.commitTimeoutMs ?? 1500);
  if (third === Tag.DoAbort) return done('ABORTED');
  if (third === Tag.DoCommit) await sendAll(comm, null, [0], Tag.HaveCommitted);
  return done('COMMITTED'); // DoCommit, or a timeout while PRECOMMITTED
}
