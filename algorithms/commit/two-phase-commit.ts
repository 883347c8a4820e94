/**
 * Two-phase commit (book 4.6.1; the two-phase-commit program done right). Rank 0 coordinates, every
 * other rank participates.
 *
 *   coordinator                           participant
 *   CanCommit ─────────────────────────▶  votes (recorded first) ─ Vote{yes|no} ─▶
 *   all yes → COMMIT, else (a no, or a vote missing after voteTimeoutMs) → ABORT;
 *   the decision is recorded in comm.storage BEFORE it is sent
 *   DoCommit | DoAbort ────────────────▶  records the outcome ─ HaveCommitted ─▶
 *
 * Timeouts: a participant that has not voted may abort alone (it then votes no to anyone asking).
 * A participant that voted yes is uncertain: it never decides alone; after decisionTimeoutMs it asks
 * the coordinator and the other participants (GetDecision, resent every retryMs). Any rank that
 * knows the outcome answers it (DecisionReply); a participant that has not voted yet answers ABORT
 * and aborts. If nobody knows (the coordinator is down and every participant voted yes), the
 * participant is blocked: 2PC's known weakness. It reports BLOCKED after blockedAfterMs rather than
 * wait for ever. A restarted rank (crash-recovery) picks up from its storage: a coordinator with a
 * recorded decision resends it; one without aborts (nothing was committed).
 *
 * The roles take every message on `comm` (any tag): give the protocol its own communicator (dup())
 * if the program uses `comm` for other traffic too.
 */
import { defineTags, type Communicator } from 'dsmpi';
import { recvWithin } from '../common/recv-within.ts';
import { participantsOf, sendAll, type CommitOutcome, type CommitResult } from './common.ts';

export const Tag = defineTags('two-phase-commit', [
  'CanCommit',
  'Vote',
  'DoCommit',
  'DoAbort',
  'HaveCommitted',
  'GetDecision',
  'DecisionReply',
]);

export type Decision = 'COMMIT' | 'ABORT';

export interface TwoPhaseCommitOptions {
  /** This participant's vote (default yes). */
  vote?: (rank: number) => boolean;
  /** Coordinator: how long to wait for the votes (default 200 ms). */
  voteTimeoutMs?: number;
  /** Participant: how long to wait for CanCommit before aborting alone (default 600 ms). */
  canCommitTimeoutMs?: number;
  /** Participant: how long to wait for the decision, after voting yes, before asking (default 300 ms). */
  decisionTimeoutMs?: number;
  /** Resend period for CanCommit, decisions and questions (default 50 ms). */
  retryMs?: number;
  /** Participant: reports BLOCKED after asking for this long without an answer (default 2000 ms). */
  blockedAfterMs?: number;
  /** Coordinator: resends the decision until acknowledged, at most this long (default 2500 ms). */
  ackTimeoutMs?: number;
  /** Participant: keeps answering others' questions this long after deciding (default 600 ms). */
  lingerMs?: number;
  /** Scenario: the coordinator stops (goes silent for good) before or right after deciding. */
  coordinatorStops?: 'before-decision' | 'after-decision';
  /** Scenario: this participant is unresponsive this long at the start (default 0). */
  silentMs?: number;
  /** Scenario: the coordinator takes this long to decide once the votes are in (a slow log write; default 0). */
  decisionDelayMs?: number;
  /** Called on each state transition (for printing). */
  onTransition?: (state: string) => void;
}

const Key = { started: '2pc/started', decision: '2pc/decision', vote: '2pc/vote', outcome: '2pc/outcome' } as const;

const outcomeOf = (d: Decision): CommitOutcome => (d === 'COMMIT' ? 'COMMITTED' : 'ABORTED');

export async function twoPhaseCommit(comm: Communicator, options: TwoPhaseCommitOptions = {}): Promise<CommitResult> {
  if (comm.size < 2) {
    // No participant: the coordinator decides alone (nobody can vote no).
    const history = ['INIT', 'COMMITTED'];
    history.forEach((s) => options.onTransition?.(s));
    return { rank: comm.rank, role: 'coordinator', outcome: 'COMMITTED', history };
  }
  return comm.rank === 0 ? coordinator(comm, options) : participant(comm, options);
}

async function coordinator(comm: Communicator, o: TwoPhaseCommitOptions): Promise<CommitResult> {
  const voteTimeoutMs = o.voteTimeoutMs ?? 200;
  const retryMs = o.retryMs ?? 50;
  const ackTimeoutMs = o.ackTimeoutMs ?? 2500;
  const history: string[] = [];
  const enter = (s: string): void => {
    history.push(s);
    comm.note(s);
    o.onTransition?.(s);
  };
  const participants = participantsOf(comm);
  const st = comm.storage;
  let decision = st.get<Decision>(Key.decision);

  if (decision === undefined) {
    if (st.get(Key.started)) {
      enter('RECOVERED');
      decision = 'ABORT'; // restarted before deciding: nothing was committed, so abort is safe
    } else {
      st.set(Key.started, true);
      enter('INIT');
      const yes = new Set<number>();
      let no = false;
      const deadline = comm.clock.now() + voteTimeoutMs;
      enter('WAIT');
      while (!no && yes.size < participants.length && comm.clock.now() < deadline) {
        await sendAll(
          comm,
          null,
          participants.filter((p) => !yes.has(p)),
          Tag.CanCommit,
        );
        const until = Math.min(deadline, comm.clock.now() + retryMs);
        while (!no && yes.size < participants.length) {
          const m = await recvWithin(comm, until - comm.clock.now());
          if (!m) break;
          if (m.tag === Tag.Vote) {
            if (m.data === 'yes') yes.add(m.source);
            else no = true;
          }
        }
      }
      if (o.coordinatorStops === 'before-decision') {
        enter('CRASHED');
        return { rank: comm.rank, role: 'coordinator', outcome: 'CRASHED', history };
      }
      if (o.decisionDelayMs) await comm.clock.sleep(o.decisionDelayMs);
      decision = !no && yes.size === participants.length ? 'COMMIT' : 'ABORT';
    }
    st.set(Key.decision, decision); // recorded before anyone is told
  } else {
    enter('RECOVERED');
  }
  enter(outcomeOf(decision));
  if (o.coordinatorStops === 'after-decision') {
    enter('CRASHED');
    return { rank: comm.rank, role: 'coordinator', outcome: 'CRASHED', history };
  }

  // Tell everyone, resend to whoever has not acknowledged, answer questions.
  const acked = new Set<number>();
  const tag = decision === 'COMMIT' ? Tag.DoCommit : Tag.DoAbort;
  const deadline = comm.clock.now() + ackTimeoutMs;
  while (acked.size < participants.length && comm.clock.now() < deadline) {
    await sendAll(
      comm,
      null,
      participants.filter((p) => !acked.has(p)),
      tag,
    );
    const until = Math.min(deadline, comm.clock.now() + retryMs);
    while (acked.size < participants.length) {
      const m = await recvWithin(comm, until - comm.clock.now());
      if (!m) break;
      if (m.tag === Tag.HaveCommitted) acked.add(m.source);
      else if (m.tag === Tag.GetDecision) await sendAll(comm, decision, [m.source], Tag.DecisionReply);
    }
  }
  return { rank: comm.rank, role: 'coordinator', outcome: outcomeOf(decision), history };
}

async function participant(comm: Communicator, o: TwoPhaseCommitOptions): Promise<CommitResult> {
  const canCommitTimeoutMs = o.canCommitTimeoutMs ?? 600;
  const decisionTimeoutMs = o.decisionTimeoutMs ?? 300;
  const retryMs = o.retryMs ?? 50;
  const blockedAfterMs = o.blockedAfterMs ?? 2000;
  const lingerMs = o.lingerMs ?? 600;
  const history: string[] = [];
  const enter = (s: string): void => {
    history.push(s);
    comm.note(s);
    o.onTransition?.(s);
  };
  const st = comm.storage;
  const others = participantsOf(comm).filter((p) => p !== comm.rank);
  let vote = st.get<'yes' | 'no'>(Key.vote);
  let outcome = st.get<Decision>(Key.outcome);

  const decide = (d: Decision): void => {
    outcome = d;
    st.set(Key.outcome, d);
    enter(outcomeOf(d));
  };
  const castVote = async (): Promise<void> => {
    if (vote === undefined) {
      vote = (o.vote ?? (() => true))(comm.rank) ? 'yes' : 'no';
      st.set(Key.vote, vote); // recorded before it is sent: binding across a restart
      comm.note('vote', vote);
      if (vote === 'no') decide('ABORT');
      else enter('READY');
    }
    await sendAll(comm, vote, [0], Tag.Vote);
  };

  if (outcome !== undefined || vote !== undefined) enter('RECOVERED');
  else enter('INIT');
  if (vote === 'no' && outcome === undefined) decide('ABORT'); // crashed between recording the vote and the outcome
  if (o.silentMs) await comm.clock.sleep(o.silentMs);

  // Phase 1: wait for CanCommit (or learn the outcome); abort alone on timeout, before voting.
  if (outcome === undefined && vote === undefined) {
    const deadline = comm.clock.now() + canCommitTimeoutMs;
    while (outcome === undefined && vote === undefined) {
      const m = await recvWithin(comm, deadline - comm.clock.now());
      if (!m) {
        decide('ABORT'); // never voted: free to abort
        break;
      }
      if (m.tag === Tag.CanCommit) await castVote();
      else if (m.tag === Tag.DoAbort) decide('ABORT');
      else if (m.tag === Tag.GetDecision)
        decide('ABORT'); // answered below, in the linger loop
      else if (m.tag === Tag.DecisionReply) decide(m.data as Decision);
    }
  }

  // Phase 2: voted yes, uncertain: wait for the decision; ask after a timeout; never decide alone.
  if (outcome === undefined) {
    let next = comm.clock.now() + decisionTimeoutMs;
    let askingSince: number | undefined;
    while (outcome === undefined) {
      const now = comm.clock.now();
      if (askingSince !== undefined && now - askingSince >= blockedAfterMs) break;
      if (now >= next) {
        askingSince ??= now;
        if (askingSince === now) enter('UNCERTAIN');
        await sendAll(comm, null, [0, ...others], Tag.GetDecision);
        next = comm.clock.now() + retryMs;
      }
      const m = await recvWithin(comm, next - comm.clock.now());
      if (!m) continue;
      if (m.tag === Tag.DoCommit) decide('COMMIT');
      else if (m.tag === Tag.DoAbort) decide('ABORT');
      else if (m.tag === Tag.DecisionReply) decide(m.data as Decision);
      else if (m.tag === Tag.CanCommit) await castVote(); // our vote was lost: send it again
    }
    if (outcome === undefined) {
      enter('BLOCKED');
      return { rank: comm.rank, role: 'participant', outcome: 'BLOCKED', vote, history };
    }
  }

  // Decided: acknowledge, then keep answering for a while (others may be uncertain, messages lost).
  await sendAll(comm, null, [0], Tag.HaveCommitted);
  const end = comm.clock.now() + lingerMs;
  for (;;) {
    const m = await recvWithin(comm, end - comm.clock.now());
    if (!m) break;
    if (m.tag === Tag.GetDecision) await sendAll(comm, outcome, [m.source], Tag.DecisionReply);
    else if (m.tag === Tag.DoCommit || m.tag === Tag.DoAbort) await sendAll(comm, null, [0], Tag.HaveCommitted);
    else if (m.tag === Tag.CanCommit) await sendAll(comm, vote ?? 'no', [0], Tag.Vote);
  }
  return { rank: comm.rank, role: 'participant', outcome: outcomeOf(outcome!), vote, history };
}
