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
 */
import { defineTags, type Communicator, type DurableStorage } from 'dsmpi';
import { defaultFarewell, type FarewellOptions } from '../common/farewell.ts';
import {
  defaultDetector,
  detectorWakeAt,
  heardFrom,
  isDetectorTag,
  startDetector,
  stepDetector,
  type DetectorOptions,
  type DetectorState,
} from '../failure-detector.ts';
import { others, range, serve, toAll, type Input, type Machine, type Out } from '../common/serve.ts';
import { ballotAbove, Bottom, compareBallots, formatBallot, majority, maxBallot, nextBallot, sameBallot, type Ballot } from './ballot.ts';

/** Message names; the tag registry gives them numbers no other algorithm uses. */
export const Tag = defineTags('sequence-paxos', ['Propose', 'Promise', 'Accepted', 'Nack', 'Prepare', 'Accept', 'Decide', 'Farewell']);

export type Value = string | number;

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

interface PromiseInfo {
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
function learn(s: SequenceState): void {
  const log = s.final ?? s.va;
  const length = s.final ? s.final.length : s.ld;
  for (; s.counted < length; s.counted++) s.decidedSet.add(log[s.counted]);
  if (!s.finished && length >= s.total) {
    s.finished = true;
    s.leader = undefined;
  }
}

function prepare(s: SequenceState, nowMs: number): Out[] {
  const ballot = nextBallot(s.seen, s.rank);
  s.seen = ballot;
  s.leader = {
    ballot,
    phase: 'prepare',
    prepLd: s.ld,
    prefix: s.va.slice(0, s.ld),
    promises: new Map(),
    log: [],
    inLog: new Set(),
    acked: new Array<number>(s.size).fill(-1),
    syncFrom: new Array<number>(s.size).fill(-1),
    lastSentMs: new Array<number>(s.size).fill(nowMs),
    ld: s.ld,
    pending: [],
    nextDecideMs: nowMs,
  };
  return toAll(range(0, s.size), Tag.Prepare, { ballot, ld: s.ld });
}

function sync(s: SequenceState, l: LeaderState, a: number, nowMs: number): Out {
  const start = l.acked[a] >= 0 ? l.acked[a] : l.syncFrom[a];
  l.lastSentMs[a] = nowMs;
  return { to: a, tag: Tag.Accept, data: { ballot: l.ballot, start, entries: l.log.slice(start), decided: l.ld } };
}

function append(s: SequenceState, l: LeaderState, values: Value[], nowMs: number): Out[] {
  const fresh = values.filter((v) => !l.inLog.has(v));
  if (fresh.length === 0) return [];
  const start = l.log.length;
  l.log.push(...fresh);
  for (const v of fresh) l.inLog.add(v);
  const out: Out[] = [];
  for (const a of l.promises.keys()) {
    l.lastSentMs[a] = nowMs;
    out.push({ to: a, tag: Tag.Accept, data: { ballot: l.ballot, start, entries: fresh, decided: l.ld } });
  }
  return out;
}

/** Client: keep up to `window` own values in flight, and resend those pending too long. */
function pump(s: SequenceState, nowMs: number, out: Out[]): void {
  if (s.finished) return;
  const lead = trustedLeader(s);
  const batch: Value[] = [];
  let inFlight = 0;
  while (s.mineFrom < s.mine.length && s.decidedSet.has(s.mine[s.mineFrom])) s.mineFrom++;
  for (let i = s.mineFrom; i < s.mine.length; i++) {
    const v = s.mine[i];
    if (s.decidedSet.has(v)) continue;
    if (inFlight >= s.options.window) break;
    inFlight++;
    const sent = s.sentMs.get(v);
    if (sent === undefined || nowMs - sent >= s.options.retryMs) {
      s.sentMs.set(v, nowMs);
      batch.push(v);
    }
  }
  if (batch.length > 0) out.push({ to: lead, tag: Tag.Propose, data: { values: batch } });
}

export function stepSequence(s: SequenceState, input: Input): [SequenceState, Out[]] {
  const out: Out[] = [];
  const now = input.nowMs;
  if (input.type === 'tick') {
    onTick(s, input, out);
    return [s, out];
  }
  const from = input.source;
  heardFrom(s.detector, from, now);
  if (isDetectorTag(input.tag)) {
    const [, o] = stepDetector(s.detector, input);
    return [s, o];
  }
  const d = input.data as Record<string, unknown>;
  if (input.tag === Tag.Farewell) {
    const log = d.log as Value[];
    if (log.length > decidedLog(s).length) s.final = log;
    learn(s);
    return [s, out];
  }
  if (s.finished) return [s, out];
  const l = s.leader;
  const decidedBefore = s.ld;
  switch (input.tag) {
    case Tag.Prepare: {
      const ballot = d.ballot as Ballot;
      s.seen = maxBallot(s.seen, ballot);
      // A Prepare of the ballot already promised is the leader's resend (its first answer is late
      // or lost, or this is a duplicate): answer it again. A Nack would depose a working leader,
      // and with round trips over retryMs that happened at every ballot, for ever.
      if (compareBallots(ballot, s.promised) >= 0) {
        if (ballotAbove(ballot, s.promised)) input.note?.('promised', ballot);
        s.promised = ballot;
        const from0 = d.ld as number;
        out.push({ to: from, tag: Tag.Promise, data: { ballot, na: s.na, suffix: s.va.slice(from0), ld: s.ld } });
      } else {
        out.push({ to: from, tag: Tag.Nack, data: { ballot, promised: s.promised } });
      }
      break;
    }
    case Tag.Promise: {
      const ballot = d.ballot as Ballot;
      if (!l || !sameBallot(ballot, l.ballot)) break;
      const info: PromiseInfo = { na: d.na as Ballot, suffix: d.suffix as Value[], ld: d.ld as number };
      if (l.promises.has(from)) break;
      l.promises.set(from, info);
      l.syncFrom[from] = Math.min(info.ld, l.prepLd);
      if (l.phase === 'prepare') {
        if (l.promises.size < majority(s.size)) break;
        // Figure 4.5's max(S): the highest accepted ballot, then the longest log, wins.
        let best: PromiseInfo | undefined;
        for (const p of l.promises.values()) {
          const c = best ? compareBallots(p.na, best.na) : 1;
          if (!best || c > 0 || (c === 0 && p.suffix.length > best.suffix.length)) best = p;
        }
        l.log = [...l.prefix, ...best!.suffix];
        l.inLog = new Set(l.log);
        l.phase = 'accept';
        s.led.push(formatBallot(l.ballot));
        input.note?.('leader', l.ballot);
        const pending = l.pending;
        l.pending = [];
        for (const v of pending) {
          if (l.inLog.has(v)) continue;
          l.log.push(v);
          l.inLog.add(v);
        }
        for (const a of l.promises.keys()) out.push(sync(s, l, a, now));
      } else {
        out.push(sync(s, l, from, now));
      }
      break;
    }
    case Tag.Nack: {
      const ballot = d.ballot as Ballot;
      s.seen = maxBallot(s.seen, d.promised as Ballot);
      if (l && sameBallot(ballot, l.ballot)) {
        s.leader = undefined;
        s.backoffUntilMs = now + input.random * s.options.backoffMs;
      }
      break;
    }
    case Tag.Accept: {
      const ballot = d.ballot as Ballot;
      if (compareBallots(ballot, s.promised) < 0) {
        out.push({ to: from, tag: Tag.Nack, data: { ballot, promised: s.promised } });
        break;
      }
      if (!sameBallot(ballot, s.promised)) break; // not promised yet: the leader will Prepare again
      const start = d.start as number;
      const entries = d.entries as Value[];
      if (sameBallot(s.na, ballot)) {
        if (start > s.va.length) break; // a gap: the leader resends from what we acknowledged
        if (start + entries.length > s.va.length) s.dirtyFrom = Math.min(s.dirtyFrom, start);
        entries.forEach((v, i) => (s.va[start + i] = v));
      } else {
        // AcceptSync: the first Accept of this ballot; logs agree up to `start` <= our decided length.
        if (start > s.ld) break;
        s.va = [...s.va.slice(0, start), ...entries];
        s.dirtyFrom = Math.min(s.dirtyFrom, start);
        s.na = ballot;
      }
      s.ld = Math.max(s.ld, Math.min(d.decided as number, s.va.length));
      out.push({ to: from, tag: Tag.Accepted, data: { ballot, length: s.va.length } });
      learn(s);
      break;
    }
    case Tag.Accepted: {
      const ballot = d.ballot as Ballot;
      if (!l || l.phase !== 'accept' || !sameBallot(ballot, l.ballot)) break;
      l.acked[from] = Math.max(l.acked[from], d.length as number);
      const chosen = [...l.acked].sort((x, y) => y - x)[majority(s.size) - 1];
      if (chosen > l.ld) {
        l.ld = chosen;
        l.nextDecideMs = now + s.options.retryMs;
        out.push(...toAll(range(0, s.size), Tag.Decide, { ballot: l.ballot, ld: l.ld }));
      }
      break;
    }
    case Tag.Decide: {
      if (sameBallot(d.ballot as Ballot, s.na)) {
        s.ld = Math.max(s.ld, Math.min(d.ld as number, s.va.length));
        learn(s);
      }
      break;
    }
    case Tag.Propose: {
      const values = d.values as Value[];
      if (!l) break; // not the leader: the client resends to the one it trusts
      if (l.phase === 'accept') out.push(...append(s, l, values, now));
      else for (const v of values) if (!l.pending.includes(v)) l.pending.push(v);
      break;
    }
  }
  if (s.ld > decidedBefore) input.note?.('decided', s.va.slice(decidedBefore, s.ld));
  pump(s, now, out);
  return [s, out];
}

function onTick(s: SequenceState, input: Extract<Input, { type: 'tick' }>, out: Out[]): void {
  const now = input.nowMs;
  out.push(...stepDetector(s.detector, input)[1]);
  if (s.finished) return; // serve() announces the log (Farewell) until the run ends
  if (now < s.nextTickMs) return;
  s.nextTickMs = now + s.options.periodMs;
  // The lowest live rank also submits the values of clients the runtime reports dead.
  const live = range(0, s.size).filter((r) => !input.failed.includes(r));
  const adopted = live[0] === s.rank ? input.failed.flatMap((r) => s.values[r]) : [];
  if (adopted.length > 0 && s.mine.length !== s.values[s.rank].length + adopted.length) {
    s.mine = [...s.values[s.rank], ...adopted];
    s.mineFrom = 0;
  }
  const lead = trustedLeader(s);
  if (s.leader && lead !== s.rank) s.leader = undefined; // step down: a lower rank is back
  if (!s.leader && lead === s.rank && now >= s.backoffUntilMs) {
    out.push(...prepare(s, now));
    input.note?.('prepare', s.leader!.ballot);
  }
  const l = s.leader;
  if (l) {
    for (let a = 0; a < s.size; a++) {
      if (now - l.lastSentMs[a] < s.options.retryMs) continue;
      if (!l.promises.has(a)) {
        l.lastSentMs[a] = now;
        out.push({ to: a, tag: Tag.Prepare, data: { ballot: l.ballot, ld: l.prepLd } });
      } else if (l.phase === 'accept' && l.acked[a] < l.log.length) {
        out.push(sync(s, l, a, now));
      }
    }
    if (l.phase === 'accept' && now >= l.nextDecideMs) {
      l.nextDecideMs = now + s.options.retryMs;
      out.push(...toAll(others(s.rank, s.size), Tag.Decide, { ballot: l.ballot, ld: l.ld }));
    }
  }
  pump(s, now, out);
}

export function sequenceWakeAt(s: SequenceState): number {
  const fd = detectorWakeAt(s.detector);
  if (s.finished) return fd;
  return Math.min(fd, s.nextTickMs);
}

export const sequenceMachine: Machine<SequenceState> = {
  step: stepSequence,
  wakeAtMs: sequenceWakeAt,
  done: () => false,
  persist: persistSequence,
  farewell: { tag: Tag.Farewell, options: (s) => s.options.farewell, outcome: (s) => (s.finished ? { log: decidedLog(s) } : undefined) },
};

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
