/**
 * The proposer (book 4.1): runs Paxos with the first value a client proposed to it, with ballots
 * above every one it has seen; a Nack, or no quorum in time, makes it back off (randomised, growing)
 * and try a higher ballot. It snapshots each value it puts to a vote, and reverts an abandoned one.
 */
import type { Input, Out } from '../../common/serve.ts';
import { toAll } from '../../common/serve.ts';
import { ballotAbove, majority, maxBallot, nextBallot, sameBallot, type Ballot } from '../ballot.ts';
import { Tag, type Accepted } from './messages.ts';
import { decide, type PaxosState } from './state.ts';

/** Phase 1: a fresh ballot above every one seen, Prepare to all acceptors. */
export function prepare<V>(s: PaxosState<V>, nowMs: number): Out[] {
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

export function backoff<V>(s: PaxosState<V>, nowMs: number, random: number): Out[] {
  const p = s.proposer;
  const out = p.phase === 'accept' ? toAll(s.layout.telemetry, Tag.Revert, { ballot: p.ballot, from: s.rank }) : [];
  p.phase = 'backoff';
  p.deadlineMs = nowMs + random * s.options.backoffMs * 2 ** Math.min(p.attempts, 5);
  return out;
}

/** A client's value: the proposer runs Paxos with the first one it gets. */
export function onPropose<V>(s: PaxosState<V>, value: V, input: Input, out: Out[]): void {
  const p = s.proposer;
  if (s.role !== 'proposer' || s.decided || p.value !== undefined) return;
  p.value = value;
  out.push(...prepare(s, input.nowMs));
}

/** Phase 2a once a majority promised: the value of the highest ballot accepted, else its own. */
export function onPromise<V>(s: PaxosState<V>, from: number, ballot: Ballot, accepted: Accepted<V> | null, input: Input, out: Out[]): void {
  const p = s.proposer;
  if (s.role !== 'proposer' || p.phase !== 'prepare' || !sameBallot(ballot, p.ballot)) return;
  p.promises.set(from, accepted);
  if (p.promises.size < majority(s.layout.acceptors.length)) return;
  // Adopt the value accepted in the highest ballot, if any acceptor of the quorum accepted one.
  let best: Accepted<V> | null = null;
  for (const acc of p.promises.values()) if (acc && (!best || ballotAbove(acc.ballot, best.ballot))) best = acc;
  p.proposal = best ? best.value : p.value;
  p.phase = 'accept';
  input.note?.('proposing', { ballot: p.ballot, value: p.proposal });
  p.deadlineMs = input.nowMs + s.options.retryMs;
  out.push(...toAll(s.layout.acceptors, Tag.Accept, { ballot: p.ballot, value: p.proposal }));
  out.push(...toAll(s.layout.telemetry, Tag.Snapshot, { ballot: p.ballot, value: p.proposal, status: 'proposed', from: s.rank }));
}

/** An acceptor accepted this proposer's ballot: a majority decides. */
export function onAcceptedByProposer<V>(s: PaxosState<V>, from: number, ballot: Ballot, value: V): void {
  const p = s.proposer;
  if (p.phase !== 'accept' || !sameBallot(ballot, p.ballot)) return;
  p.accepts.add(from);
  if (p.accepts.size >= majority(s.layout.acceptors.length)) decide(s, value);
}

/** An acceptor promised a higher ballot: back off, then try above it. */
export function onNack<V>(s: PaxosState<V>, ballot: Ballot, promised: Ballot, input: Input, out: Out[]): void {
  const p = s.proposer;
  if (s.role !== 'proposer' || !sameBallot(ballot, p.ballot) || (p.phase !== 'prepare' && p.phase !== 'accept')) return;
  p.seen = maxBallot(p.seen, promised);
  p.nacks++;
  out.push(...backoff(s, input.nowMs, input.random));
}

/** No quorum in time (loss, a crash, a partition), or the backoff is over: a higher ballot. */
export function proposerTick<V>(s: PaxosState<V>, nowMs: number, random: number, out: Out[]): void {
  const p = s.proposer;
  if (p.value === undefined || nowMs < p.deadlineMs) return;
  if (p.phase === 'prepare' || p.phase === 'accept') out.push(...backoff(s, nowMs, random));
  else out.push(...prepare(s, nowMs));
}
