/** A rank's state in single-decree Paxos (every role's part), how it starts and restarts, and what it persists. */
import type { DurableStorage } from 'dsmpi';
import { defaultFarewell, type FarewellOptions } from '../../common/farewell.ts';
import { toAll, type Out } from '../../common/serve.ts';
import { Bottom, type Ballot } from '../ballot.ts';
import { paxosLayout, roleOf, type PaxosLayout, type Role } from './layout.ts';
import { Tag, type Accepted, type Snapshot } from './messages.ts';

export interface PaxosOptions {
  /** A proposer with no quorum after this long retries with a higher ballot. */
  retryMs: number;
  /** Backoff after a Nack: uniform in [0, backoffMs * 2^min(attempt, 5)). */
  backoffMs: number;
  /** Clients resend Propose this often until they know the decision. */
  resendMs: number;
  farewell: FarewellOptions;
  /**
   * Who plays which role at n ranks (default paxosLayout, the book's five blocks). In a layout
   * without clients each proposer starts with its own value (`clientValue` of its rank).
   */
  layout?: (n: number) => PaxosLayout;
}

export const defaultPaxosOptions: PaxosOptions = { retryMs: 40, backoffMs: 5, resendMs: 50, farewell: defaultFarewell };

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
  const layout = (options.layout ?? paxosLayout)(size);
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
  // A proposer with its own value (no clients) takes it as the first Propose, in flight to itself.
  if (s.role === 'proposer' && clientValue !== undefined && !s.decided) out.push({ to: rank, tag: Tag.Propose, data: { value: clientValue } });
  return [s, out];
}

export function persistPaxos<V>(s: PaxosState<V>, storage: DurableStorage): void {
  storage.set('single-paxos', { seen: s.proposer.seen, acceptor: s.acceptor, decided: s.decided ?? null, snapshots: s.snapshots });
}

/** This rank knows the decision (serve() then announces it: the farewell). */
export function decide<V>(s: PaxosState<V>, value: V): void {
  if (!s.decided) s.decided = { value };
}
