/**
 * The leader (Figure 4.5): phase 1 once for the whole log, adopting the suffix of the highest
 * (accepted ballot, length); then each value costs one round trip, pipelined; an index is decided
 * once a majority holds it. It resends to lagging acceptors, repeats Decide, and steps down on a
 * Nack or when it no longer trusts itself to lead.
 */
import type { Input, Out } from '../../common/serve.ts';
import { others, range, toAll } from '../../common/serve.ts';
import { compareBallots, formatBallot, majority, maxBallot, nextBallot, sameBallot, type Ballot } from '../ballot.ts';
import { Tag, type Value } from './messages.ts';
import { trustedLeader, type LeaderState, type PromiseInfo, type SequenceState } from './state.ts';

export function prepare(s: SequenceState, nowMs: number): Out[] {
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

export function sync(s: SequenceState, l: LeaderState, a: number, nowMs: number): Out {
  const start = l.acked[a] >= 0 ? l.acked[a] : l.syncFrom[a];
  l.lastSentMs[a] = nowMs;
  return { to: a, tag: Tag.Accept, data: { ballot: l.ballot, start, entries: l.log.slice(start), decided: l.ld } };
}

export function append(s: SequenceState, l: LeaderState, values: Value[], nowMs: number): Out[] {
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

/** Promises: with a majority, the log to continue from, and AcceptSync to each acceptor that promised. */
export function onPromise(s: SequenceState, from: number, d: Record<string, unknown>, input: Input, out: Out[]): void {
  const l = s.leader;
  const now = input.nowMs;
  const ballot = d.ballot as Ballot;
  if (!l || !sameBallot(ballot, l.ballot)) return;
  const info: PromiseInfo = { na: d.na as Ballot, suffix: d.suffix as Value[], ld: d.ld as number };
  if (l.promises.has(from)) return;
  l.promises.set(from, info);
  l.syncFrom[from] = Math.min(info.ld, l.prepLd);
  if (l.phase === 'prepare') {
    if (l.promises.size < majority(s.size)) return;
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
}

/** A higher ballot was promised: a leader of the refused ballot steps down and backs off. */
export function onNack(s: SequenceState, d: Record<string, unknown>, input: Input): void {
  const l = s.leader;
  const now = input.nowMs;
  const ballot = d.ballot as Ballot;
  s.seen = maxBallot(s.seen, d.promised as Ballot);
  if (l && sameBallot(ballot, l.ballot)) {
    s.leader = undefined;
    s.backoffUntilMs = now + input.random * s.options.backoffMs;
  }
}

/** An acceptor's accepted length: an index a majority holds is decided. */
export function onAccepted(s: SequenceState, from: number, d: Record<string, unknown>, input: Input, out: Out[]): void {
  const l = s.leader;
  const now = input.nowMs;
  const ballot = d.ballot as Ballot;
  if (!l || l.phase !== 'accept' || !sameBallot(ballot, l.ballot)) return;
  l.acked[from] = Math.max(l.acked[from], d.length as number);
  const chosen = [...l.acked].sort((x, y) => y - x)[majority(s.size) - 1];
  if (chosen > l.ld) {
    l.ld = chosen;
    l.nextDecideMs = now + s.options.retryMs;
    out.push(...toAll(range(0, s.size), Tag.Decide, { ballot: l.ballot, ld: l.ld }));
  }
}

/** A client's values: appended (or kept until phase 1 is over). */
export function onPropose(s: SequenceState, d: Record<string, unknown>, input: Input, out: Out[]): void {
  const l = s.leader;
  const now = input.nowMs;
  const values = d.values as Value[];
  if (!l) return; // not the leader: the client resends to the one it trusts
  if (l.phase === 'accept') out.push(...append(s, l, values, now));
  else for (const v of values) if (!l.pending.includes(v)) l.pending.push(v);
}

/** At the rank's tick: lead if it trusts itself (or step down), resend what is late, repeat Decide. */
export function leaderTick(s: SequenceState, input: Extract<Input, { type: 'tick' }>, out: Out[]): void {
  const now = input.nowMs;
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
}
