/**
 * The single-decree Paxos port (paxos/single-paxos.ts) as a state-space model: its real state
 * machine with the farewell serve() adds (withFarewell), two proposers and three acceptors, an
 * asynchronous network (any message may be delivered next), a budget of lost messages (proven as
 * delays forever unless `literalDrops`) and of timer firings per proposer; agreement and validity
 * checked on every state (docs/exploration.md, "Stateful search").
 *
 * The ranks are those of the port's layout at n = 11: clients 0–1, proposers 2–3, acceptors 4–6,
 * learners 7–8, telemetry 9–10. Only the proposers and acceptors are modelled: client i's
 * Propose is in flight to proposer i at the start, and what the modelled ranks send to the
 * learners and telemetry leaves the model (those ranks only record and re-announce the decision).
 * The acceptors are interchangeable (symmetry reduction).
 */
import {
  canonical,
  checkStateSpace,
  type SpaceMessage,
  type SpaceNode,
  type StateSpaceOptions,
  type StateSpaceReport,
} from 'dsmpi/explore';
import type { Machine } from '../common/serve.ts';
import { startWithFarewell, withFarewell, type WithFarewell } from '../common/farewell.ts';
import { compareBallots, majority, type Ballot } from '../paxos/ballot.ts';
import { paxosLayout, paxosMachine, startPaxos, Tag, type PaxosState } from '../paxos/single-paxos.ts';

/** A rank's state: the port's state machine with the farewell serve() runs for it. */
type RankState = WithFarewell<PaxosState<string>>;

export interface PaxosSpaceOptions {
  /** At most this many messages lost (default 1). */
  drops?: number;
  /**
   * Branch on each loss (default false: the loss budget is proven as delays, lossAsDelay, which
   * holds for any number of losses since agreement reads only the ranks' states).
   */
  literalDrops?: boolean;
  /**
   * At most this many timer firings per proposer (default 2), or one budget per proposer; acceptors
   * get `acceptorTicks` (default 0).
   */
  ticks?: number | readonly number[];
  acceptorTicks?: number;
  /** Fold the acceptors' permutations into one state (default true). */
  symmetry?: boolean;
  /**
   * Take out of the network the messages that can change nothing any more (ignoredInPhase,
   * deadRequest; default true). False keeps only the ballot rule (obsolete), to compare.
   */
  deadMessages?: boolean;
  maxStates?: number;
  /** Sees every state reached (tests compare what two searches reach). */
  observe?: (states: readonly RankState[]) => void;
  onLevel?: StateSpaceOptions<RankState>['onLevel'];
  /** A variant of the port's machine (tests seed bugs with it). */
  variant?: (real: Machine<PaxosState<string>>) => Machine<PaxosState<string>>;
}

const SIZE = 11;
const VALUES = ['A', 'B'];

export function checkPaxosSpace(o: PaxosSpaceOptions = {}): StateSpaceReport {
  const layout = paxosLayout(SIZE);
  const paxos = paxosMachine<string>();
  const real = withFarewell(o.variant ? o.variant(paxos) : paxos, paxos.farewell!);
  // A rank that has decided is done here. After deciding, the port's proposer sends no Paxos message
  // again (its timer only announces the decision, and a Nack only reverts a telemetry snapshot) and
  // its decision never changes; the announcements (Decide) only carry a decided value to others, so
  // a disagreement they could cause already holds between their senders. Stopping there keeps every
  // agreement violation and cuts the states that differ only in the announcing.
  const machine = { ...real, done: (w: RankState) => real.done(w) || w.state.decided !== undefined };
  const node = (rank: number, ticks: number): SpaceNode<RankState> => ({
    rank,
    machine,
    state: startWithFarewell(paxos.farewell!, startPaxos<string>(rank, SIZE, 0, undefined)[0], rank, SIZE, 0),
    ticks,
  });
  const ticks = (i: number): number => (typeof o.ticks === 'object' ? o.ticks[i] : o.ticks) ?? 2;
  const nodes = [...layout.proposers.map((r, i) => node(r, ticks(i))), ...layout.acceptors.map((r) => node(r, o.acceptorTicks ?? 0))];
  // Client i's value goes to proposer i (the clients' other Proposes, which a proposer with a value
  // ignores, are left out).
  const messages: SpaceMessage[] = layout.clients.map((c, i) => ({
    from: c,
    to: layout.proposers[i],
    tag: Tag.Propose,
    data: { value: VALUES[i] },
  }));
  return checkStateSpace<RankState>({
    nodes,
    messages,
    drops: o.drops ?? 1,
    lossAsDelay: !o.literalDrops,
    // A message the receiver ignores stays in flight rather than being consumed: the same
    // configurations of the ranks are reached, without doubling the states on every stale message.
    ignoredStay: true,
    obsolete: (w, m, sender) =>
      obsolete(w.state, m) || (o.deadMessages !== false && (ignoredInPhase(w.state, m) || deadRequest(w.state, m, sender?.state))),
    maxStates: o.maxStates,
    onLevel: o.onLevel,
    always: ({ states }) => {
      o.observe?.(states);
      return agreement(
        states.map((w) => w.state),
        layout.acceptors.length,
      );
    },
    symmetry: o.symmetry === false ? undefined : { groups: [layout.acceptors], renameState: renameRanks, renameData },
  });
}

/**
 * What a proposer ignores for good: a second Propose (its value is set once), and Promise, Nack or
 * Accepted for a ballot below its current one (its ballot only grows, and it heeds only replies to it).
 */
export function obsolete(s: PaxosState<string>, m: SpaceMessage): boolean {
  if (s.role !== 'proposer') return false;
  if (m.tag === Tag.Propose) return s.proposer.value !== undefined;
  if (m.tag !== Tag.Promise && m.tag !== Tag.Nack && m.tag !== Tag.Accepted) return false;
  return compareBallots((m.data as { ballot: Ballot }).ballot, s.proposer.ballot) < 0;
}

/**
 * More a proposer ignores for good, by its phase: replies to its current ballot once it backs off
 * (it leaves that ballot: its next step is a higher one), and Promise once it asks for acceptance
 * (it never returns to phase 1 in the same ballot).
 */
export function ignoredInPhase(s: PaxosState<string>, m: SpaceMessage): boolean {
  if (s.role !== 'proposer' || (m.tag !== Tag.Promise && m.tag !== Tag.Nack && m.tag !== Tag.Accepted)) return false;
  const p = s.proposer;
  if (compareBallots((m.data as { ballot: Ballot }).ballot, p.ballot) > 0) return false;
  return p.phase === 'backoff' || (p.phase === 'accept' && m.tag === Tag.Promise);
}

/**
 * A Prepare or Accept whose delivery can change nothing: the acceptor refuses it without changing
 * its state (Nack: its ballot is below the one promised) or answers a Prepare of the very ballot it
 * promised (Promise, state kept; once it promises higher, Nack), and its proposer ignores either
 * answer for good (obsolete, ignoredInPhase) or has decided (it is done). What both check only
 * moves one way (an acceptor promises only upward; a proposer's ballot only grows, and within a
 * ballot its phase goes from prepare to accept to backoff), so the message stays dead whatever
 * happens next: delivering it would only take it out of the network, and losing it only spend the
 * budget.
 */
export function deadRequest(s: PaxosState<string>, m: SpaceMessage, sender: PaxosState<string> | undefined): boolean {
  if (s.role !== 'acceptor' || !sender || (m.tag !== Tag.Prepare && m.tag !== Tag.Accept)) return false;
  const ballot = (m.data as { ballot: Ballot }).ballot;
  const c = compareBallots(ballot, s.acceptor.promised);
  if (c > 0 || (c === 0 && m.tag === Tag.Accept)) return false;
  if (sender.decided !== undefined) return true;
  // Nack is the answer once the acceptor promises higher, if it is not already; a proposer that
  // ignores Nack for this ballot ignores Promise for it too.
  const answer = { from: m.to, to: m.from, tag: Tag.Nack, data: { ballot } };
  return obsolete(sender, answer) || ignoredInPhase(sender, answer);
}

/**
 * Agreement: every rank that decided decided one value, and it is the value a majority of acceptors
 * holds as accepted in one ballot, if any does; validity: that value is a client's.
 */
export function agreement(states: readonly PaxosState<string>[], acceptors: number): string | undefined {
  const values = new Set<string>();
  for (const s of states) if (s.decided) values.add(s.decided.value);
  const byBallot = new Map<string, { value: string; count: number }>();
  for (const s of states) {
    const a = s.role === 'acceptor' ? s.acceptor.accepted : null;
    if (!a) continue;
    const k = canonical(a.ballot);
    const v = byBallot.get(k) ?? { value: a.value, count: 0 };
    v.count++;
    byBallot.set(k, v);
  }
  for (const v of byBallot.values()) if (v.count >= majority(acceptors)) values.add(v.value);
  if (values.size > 1) return `agreement violated: ${[...values].join(' and ')} both decided or chosen`;
  for (const v of values) if (!VALUES.includes(v)) return `validity violated: ${v} was never proposed`;
  return undefined;
}

/** A copy of a Paxos state with its ranks renamed: its own, the acceptors its proposer heard, its farewell's. */
export function renameRanks(w: RankState, rank: (r: number) => number): RankState {
  const s = w.state;
  const t = structuredClone(s);
  t.rank = rank(s.rank);
  t.proposer.promises = new Map([...s.proposer.promises].map(([r, a]) => [rank(r), structuredClone(a)]));
  t.proposer.accepts = new Set([...s.proposer.accepts].map(rank));
  for (const v of t.votes.values()) v.from = new Set([...v.from].map(rank));
  const renamed: RankState = { ...w, state: t, rank: t.rank, farewell: structuredClone(w.farewell) };
  if (w.farewell && renamed.farewell) {
    const f = w.farewell;
    renamed.farewell.rank = rank(f.rank);
    f.heard.forEach((x, r) => (renamed.farewell!.heard[rank(r)] = x));
    f.heardMe.forEach((x, r) => (renamed.farewell!.heardMe[rank(r)] = x));
    f.lastHeardMs.forEach((x, r) => (renamed.farewell!.lastHeardMs[rank(r)] = x));
  }
  return renamed;
}

/** Decide carries the ranks its sender has heard; no other message of the port names an acceptor. */
export function renameData(tag: number, data: unknown, rank: (r: number) => number): unknown {
  if (tag !== Tag.Decide) return data;
  const d = data as { value: string; heard: number[] };
  return { ...d, heard: d.heard.map(rank).sort((a, b) => a - b) };
}
