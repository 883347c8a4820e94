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
 * common/farewell.ts) and leaves once all ranks have announced it: every rank ends, and prints `decided <value>` last.
 */
import { defineTags, DsError, ErrorCode, type Communicator, type DurableStorage } from 'dsmpi';
import { defaultFarewell, type FarewellOptions } from '../common/farewell.ts';
import { range, serve, toAll, type Input, type Machine, type Out } from '../common/serve.ts';
import { ballotAbove, Bottom, compareBallots, formatBallot, majority, maxBallot, nextBallot, sameBallot, type Ballot } from './ballot.ts';

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

export function roleOf(l: PaxosLayout, rank: number): Role {
  if (l.clients.includes(rank)) return 'client';
  if (l.proposers.includes(rank)) return 'proposer';
  if (l.acceptors.includes(rank)) return 'acceptor';
  if (l.learners.includes(rank)) return 'learner';
  return 'telemetry';
}

export interface PaxosOptions {
  /** A proposer with no quorum after this long retries with a higher ballot. */
  retryMs: number;
  /** Backoff after a Nack: uniform in [0, backoffMs * 2^min(attempt, 5)). */
  backoffMs: number;
  /** Clients resend Propose this often until they know the decision. */
  resendMs: number;
  farewell: FarewellOptions;
}

export const defaultPaxosOptions: PaxosOptions = { retryMs: 40, backoffMs: 5, resendMs: 50, farewell: defaultFarewell };

// ---- messages ----
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

// ---- state ----
export interface ProposerState<V> {
  value: V | undefined;
  ballot: Ballot;
  /** Highest ballot seen (own or in a Nack): the next one goes above it. */
  seen: Ballot;
  phase: 'idle' | 'prepare' | 'accept' | 'backoff';
  promises: Map<number, Accepted<V> | null>;
  accepts: Set<number>;
  proposal: V | undefined;
  deadlineMs: number;
  attempts: number;
  nacks: number;
}

export interface AcceptorState<V> {
  promised: Ballot;
  accepted: Accepted<V> | null;
}

export interface PaxosState<V> {
  rank: number;
  size: number;
  role: Role;
  layout: PaxosLayout;
  options: PaxosOptions;
  /** The client's value (client role). */
  clientValue: V | undefined;
  nextSendMs: number;
  proposer: ProposerState<V>;
  acceptor: AcceptorState<V>;
  /** Learner: acceptors that accepted each ballot, by ballot key. */
  votes: Map<string, { value: V; from: Set<number> }>;
  /** Telemetry: the snapshots kept, oldest first. */
  snapshots: Snapshot<V>[];
  restoredFrom: number | undefined;
  decided: { value: V } | undefined;
  nowMs: number;
}

export function startPaxos<V>(
  rank: number,
  size: number,
  nowMs: number,
  clientValue: V | undefined,
  options = defaultPaxosOptions,
  storage?: DurableStorage,
): [PaxosState<V>, Out[]] {
  const layout = paxosLayout(size);
  const s: PaxosState<V> = {
    rank,
    size,
    role: roleOf(layout, rank),
    layout,
    options,
    clientValue,
    nextSendMs: nowMs,
    proposer: {
      value: undefined,
      ballot: Bottom,
      seen: Bottom,
      phase: 'idle',
      promises: new Map(),
      accepts: new Set(),
      proposal: undefined,
      deadlineMs: Infinity,
      attempts: 0,
      nacks: 0,
    },
    acceptor: { promised: Bottom, accepted: null },
    votes: new Map(),
    snapshots: [],
    restoredFrom: undefined,
    decided: undefined,
    nowMs,
  };
  const out: Out[] = [];
  // Crash-recovery: what this rank made durable before.
  const saved = storage?.get<{ seen?: Ballot; acceptor?: AcceptorState<V>; decided?: { value: V }; snapshots?: Snapshot<V>[] }>(
    'single-paxos',
  );
  if (saved?.seen) s.proposer.seen = saved.seen;
  if (saved?.acceptor) s.acceptor = saved.acceptor;
  if (saved?.snapshots) s.snapshots = saved.snapshots;
  if (saved?.decided) decide(s, saved.decided.value);
  if (s.role === 'learner' && !s.decided) out.push(...toAll(layout.telemetry, Tag.Restore, null));
  return [s, out];
}

export function persistPaxos<V>(s: PaxosState<V>, storage: DurableStorage): void {
  storage.set('single-paxos', { seen: s.proposer.seen, acceptor: s.acceptor, decided: s.decided ?? null, snapshots: s.snapshots });
}

const key = (b: Ballot): string => `${b[0]}.${b[1]}`;

function decide<V>(s: PaxosState<V>, value: V): void {
  if (!s.decided) s.decided = { value };
}

/** Phase 1: a fresh ballot above every one seen, Prepare to all acceptors. */
function prepare<V>(s: PaxosState<V>, nowMs: number): Out[] {
  const p = s.proposer;
  p.ballot = nextBallot(p.seen, s.rank);
  p.seen = p.ballot;
  p.phase = 'prepare';
  p.promises = new Map();
  p.accepts = new Set();
  p.deadlineMs = nowMs + s.options.retryMs;
  p.attempts++;
  return toAll(s.layout.acceptors, Tag.Prepare, { ballot: p.ballot });
}

function backoff<V>(s: PaxosState<V>, nowMs: number, random: number): Out[] {
  const p = s.proposer;
  const out = p.phase === 'accept' ? toAll(s.layout.telemetry, Tag.Revert, { ballot: p.ballot, from: s.rank }) : [];
  p.phase = 'backoff';
  p.deadlineMs = nowMs + random * s.options.backoffMs * 2 ** Math.min(p.attempts, 5);
  return out;
}

/** The state machine of every role; `input` is one message or a tick. */
export function stepPaxos<V>(s: PaxosState<V>, input: Input): [PaxosState<V>, Out[]] {
  s.nowMs = input.nowMs;
  const out: Out[] = [];
  const before = { ballot: s.proposer.ballot, decided: s.decided };
  if (input.type === 'tick') {
    onTick(s, input.nowMs, input.random, out);
    noteProgress(s, before, input);
    return [s, out];
  }
  const from = input.source;
  const m = { tag: input.tag, ...(input.data as object) } as Msg<V> | { tag: number; [k: string]: unknown };
  const p = s.proposer;
  switch (m.tag) {
    case Tag.Decide: {
      decide(s, (m as { value: V }).value);
      break;
    }
    case Tag.Propose: {
      if (s.role !== 'proposer' || s.decided || p.value !== undefined) break;
      p.value = (m as { value: V }).value;
      out.push(...prepare(s, input.nowMs));
      break;
    }
    case Tag.Prepare: {
      if (s.role !== 'acceptor') break;
      const { ballot } = m as { ballot: Ballot };
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
      break;
    }
    case Tag.Accept: {
      if (s.role !== 'acceptor') break;
      const { ballot, value } = m as { ballot: Ballot; value: V };
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
      break;
    }
    case Tag.Promise: {
      const { ballot, accepted } = m as { ballot: Ballot; accepted: Accepted<V> | null };
      if (s.role !== 'proposer' || p.phase !== 'prepare' || !sameBallot(ballot, p.ballot)) break;
      p.promises.set(from, accepted);
      if (p.promises.size < majority(s.layout.acceptors.length)) break;
      // Adopt the value accepted in the highest ballot, if any acceptor of the quorum accepted one.
      let best: Accepted<V> | null = null;
      for (const acc of p.promises.values()) if (acc && (!best || ballotAbove(acc.ballot, best.ballot))) best = acc;
      p.proposal = best ? best.value : p.value;
      p.phase = 'accept';
      input.note?.('proposing', { ballot: p.ballot, value: p.proposal });
      p.deadlineMs = input.nowMs + s.options.retryMs;
      out.push(...toAll(s.layout.acceptors, Tag.Accept, { ballot: p.ballot, value: p.proposal }));
      out.push(...toAll(s.layout.telemetry, Tag.Snapshot, { ballot: p.ballot, value: p.proposal, status: 'proposed', from: s.rank }));
      break;
    }
    case Tag.Accepted: {
      const { ballot, value } = m as { ballot: Ballot; value: V };
      if (s.role === 'learner') {
        const k = key(ballot);
        const v = s.votes.get(k) ?? { value, from: new Set<number>() };
        v.from.add(from);
        s.votes.set(k, v);
        if (!s.decided && v.from.size >= majority(s.layout.acceptors.length)) {
          decide(s, value);
          out.push(...toAll(s.layout.telemetry, Tag.Snapshot, { ballot, value, status: 'decided', from: s.rank }));
        }
      } else if (s.role === 'proposer' && p.phase === 'accept' && sameBallot(ballot, p.ballot)) {
        p.accepts.add(from);
        if (p.accepts.size >= majority(s.layout.acceptors.length)) decide(s, value);
      }
      break;
    }
    case Tag.Nack: {
      const { ballot, promised } = m as { ballot: Ballot; promised: Ballot };
      if (s.role !== 'proposer' || !sameBallot(ballot, p.ballot) || (p.phase !== 'prepare' && p.phase !== 'accept')) break;
      p.seen = maxBallot(p.seen, promised);
      p.nacks++;
      out.push(...backoff(s, input.nowMs, input.random));
      break;
    }
    case Tag.Snapshot: {
      if (s.role !== 'telemetry') break;
      const snap = input.data as Snapshot<V>;
      if (!s.snapshots.some((x) => sameBallot(x.ballot, snap.ballot) && x.status === snap.status)) s.snapshots.push(snap);
      break;
    }
    case Tag.Revert: {
      if (s.role !== 'telemetry') break;
      const { ballot } = input.data as { ballot: Ballot };
      s.snapshots = s.snapshots.filter((x) => x.status === 'decided' || !sameBallot(x.ballot, ballot));
      break;
    }
    case Tag.Restore: {
      if (s.role !== 'telemetry') break;
      const last = lastGood(s.snapshots);
      out.push({ to: from, tag: Tag.Restored, data: { snapshot: last ?? null } });
      break;
    }
    case Tag.Restored: {
      const { snapshot } = input.data as { snapshot: Snapshot<V> | null };
      if (snapshot && snapshot.status === 'decided' && !s.decided) {
        s.restoredFrom = from;
        decide(s, snapshot.value);
      }
      break;
    }
  }
  noteProgress(s, before, input);
  return [s, out];
}

/** Notes what a step changed for a proposer or a learner: a new ballot (phase 1 starts), a decision. */
function noteProgress<V>(s: PaxosState<V>, before: Pick<PaxosState<V>, 'decided'> & { ballot: Ballot }, input: Input): void {
  if (s.proposer.ballot !== before.ballot) input.note?.('prepare', s.proposer.ballot);
  if (!before.decided && s.decided) input.note?.('decided', s.decided.value);
}

/** The last known-good state telemetry holds: the latest decided snapshot. */
export function lastGood<V>(snapshots: readonly Snapshot<V>[]): Snapshot<V> | undefined {
  return snapshots.filter((x) => x.status === 'decided').at(-1);
}

function onTick<V>(s: PaxosState<V>, nowMs: number, random: number, out: Out[]): void {
  if (s.decided) return; // serve() announces the decision (Decide) until the run ends
  if (s.role === 'client' && s.clientValue !== undefined && nowMs >= s.nextSendMs) {
    out.push(...toAll(s.layout.proposers, Tag.Propose, { value: s.clientValue }));
    s.nextSendMs = nowMs + s.options.resendMs;
  }
  const p = s.proposer;
  if (s.role === 'proposer' && p.value !== undefined && nowMs >= p.deadlineMs) {
    // No quorum in time (loss, a crash, a partition), or the backoff is over: a higher ballot.
    if (p.phase === 'prepare' || p.phase === 'accept') out.push(...backoff(s, nowMs, random));
    else out.push(...prepare(s, nowMs));
  }
}

export function paxosWakeAt<V>(s: PaxosState<V>): number | undefined {
  if (s.decided) return undefined;
  if (s.role === 'client') return s.nextSendMs;
  if (s.role === 'proposer' && s.proposer.value !== undefined) return s.proposer.deadlineMs;
  return undefined;
}

export function paxosMachine<V>(): Machine<PaxosState<V>> {
  return {
    step: stepPaxos,
    wakeAtMs: paxosWakeAt,
    done: () => false,
    persist: persistPaxos,
    farewell: { tag: Tag.Decide, options: (s) => s.options.farewell, outcome: (s) => s.decided && { value: s.decided.value } },
  };
}

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
  const layout = paxosLayout(comm.size);
  const mine = layout.clients.includes(comm.rank) ? clientValue(comm.rank) : undefined;
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
