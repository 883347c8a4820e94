/**
 * A rank's state in sequence Paxos (acceptor and learner, Figure 4.3; the leader's part while it
 * leads; the client), how it starts and restarts from durable storage, and what it learns.
 */
import type { DurableStorage } from 'dsmpi';
import { defaultFarewell, type FarewellOptions } from '../../common/farewell.ts';
import { range } from '../../common/serve.ts';
import { defaultDetector, startDetector, type DetectorOptions, type DetectorState } from '../../failure-detector.ts';
import { Bottom, type Ballot } from '../ballot.ts';
import type { Value } from './messages.ts';

export interface SequenceOptions {
  /** Period of the role's own tick (retransmissions, client resends). */
  periodMs: number;
  /** Resend to a lagging acceptor, or a client's Propose, after this long. */
  retryMs: number;
  /** After a Nack, wait uniform [0, backoffMs) before trying again. */
  backoffMs: number;
  /** Values a client keeps in flight at once. */
  window: number;
  detector: DetectorOptions;
  farewell: FarewellOptions;
}

export const defaultSequenceOptions: SequenceOptions = {
  periodMs: 10,
  retryMs: 30,
  backoffMs: 20,
  window: 4,
  detector: defaultDetector,
  farewell: defaultFarewell,
};

export interface PromiseInfo {
  na: Ballot;
  suffix: Value[];
  ld: number;
}

export interface LeaderState {
  ballot: Ballot;
  phase: 'prepare' | 'accept';
  /** The leader's decided length when it prepared, and its decided prefix then. */
  prepLd: number;
  prefix: Value[];
  promises: Map<number, PromiseInfo>;
  log: Value[];
  inLog: Set<Value>;
  /** Per rank: length known accepted in this ballot (-1: none yet), where its sync starts, when last sent. */
  acked: number[];
  syncFrom: number[];
  lastSentMs: number[];
  ld: number;
  pending: Value[];
  nextDecideMs: number;
}

export interface SequenceState {
  rank: number;
  size: number;
  options: SequenceOptions;
  detector: DetectorState;
  // acceptor and learner (Figure 4.3: n_prom, n_a, v_a; the learner's v_d is va[0..ld))
  promised: Ballot;
  na: Ballot;
  va: Value[];
  ld: number;
  seen: Ballot;
  leader: LeaderState | undefined;
  backoffUntilMs: number;
  // client: every client's values (so a crashed client's are taken over), and those this one submits
  values: Value[][];
  mine: Value[];
  sentMs: Map<Value, number>;
  decidedSet: Set<Value>;
  counted: number;
  total: number;
  /** A complete decided log learnt from another rank's Farewell. */
  final: Value[] | undefined;
  /** Every value is decided here: the run's outcome (the decided log) is known. */
  finished: boolean;
  nextTickMs: number;
  /** (ballot, rank) of every leadership this rank won, for the one-leader-per-ballot check. */
  led: string[];
  /** Persistence bookkeeping: the first log index changed since the last write, the length written. */
  dirtyFrom: number;
  savedLength: number;
  /** Client: own values before this index are all decided. */
  mineFrom: number;
}

/** The decided log (the learner's v_d). */
export function decidedLog(s: SequenceState): Value[] {
  return s.final ?? s.va.slice(0, s.ld);
}

export function startSequence(
  rank: number,
  size: number,
  nowMs: number,
  values: Value[][],
  options = defaultSequenceOptions,
  storage?: DurableStorage,
): SequenceState {
  const s: SequenceState = {
    rank,
    size,
    options,
    detector: startDetector(rank, size, nowMs, options.detector),
    promised: Bottom,
    na: Bottom,
    va: [],
    ld: 0,
    seen: Bottom,
    leader: undefined,
    backoffUntilMs: nowMs,
    values,
    mine: values[rank],
    sentMs: new Map(),
    decidedSet: new Set(),
    counted: 0,
    total: values.reduce((n, v) => n + v.length, 0),
    final: undefined,
    finished: false,
    nextTickMs: nowMs,
    led: [],
    dirtyFrom: Infinity,
    savedLength: 0,
    mineFrom: 0,
  };
  const saved = storage?.get<{ promised: Ballot; na: Ballot; length: number; ld: number; final: Value[] | null }>('sequence-paxos');
  if (saved) {
    const va = range(0, saved.length).map((i) => storage!.get<Value>(`sequence-paxos.${i}`)!);
    Object.assign(s, { promised: saved.promised, na: saved.na, ld: saved.ld, va, seen: saved.promised, final: saved.final ?? undefined });
  }
  s.savedLength = s.va.length;
  learn(s);
  return s;
}

/**
 * Writes the acceptor's state to durable storage: the small part every time, log entries only from
 * the first one changed (one key each), so a long log costs O(1) per new entry.
 */
export function persistSequence(s: SequenceState, storage: DurableStorage): void {
  for (let i = Math.min(s.dirtyFrom, s.savedLength); i < s.va.length; i++) storage.set(`sequence-paxos.${i}`, s.va[i]);
  s.dirtyFrom = Infinity;
  s.savedLength = s.va.length;
  storage.set('sequence-paxos', {
    promised: s.promised,
    na: s.na,
    length: s.va.length,
    ld: s.ld,
    final: s.final && s.final.length > s.ld ? s.final : null,
  });
}

/** The rank this one trusts as leader: the lowest it does not suspect. */
export function trustedLeader(s: SequenceState): number {
  return s.detector.peers.findIndex((p, r) => r === s.rank || !p.suspected);
}

/** Notes newly decided values; the run is finished once the log is complete. */
export function learn(s: SequenceState): void {
  const log = s.final ?? s.va;
  const length = s.final ? s.final.length : s.ld;
  for (; s.counted < length; s.counted++) s.decidedSet.add(log[s.counted]);
  if (!s.finished && length >= s.total) {
    s.finished = true;
    s.leader = undefined;
  }
}
