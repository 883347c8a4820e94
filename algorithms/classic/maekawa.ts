/**
 * Maekawa's voting-set mutual exclusion (1985), with the deadlock avoided. Each rank i has a voting
 * set V_i (here its row and its column in a √N × √N grid, so any two sets share a rank) and may enter
 * once every member of V_i has voted for it; a member votes for one request at a time. Safety comes
 * from the intersection; the naive rules (queue requests while voted) can deadlock, each rank holding
 * one vote the other needs. The fix orders requests by (Lamport stamp, rank) and adds three
 * messages: a member already locked for a later request sends Inquire to its holder and Failed to
 * requests that cannot win; a requester that has seen a Failed gives the vote back (Relinquish), so
 * the earliest request always collects its votes.
 *
 * Messages: Request, Locked (the vote), Release; and Inquire, Failed, Relinquish for the fix.
 * Without contention an entry costs 3(K−1) messages, K = |V_i| (the member that is the rank itself
 * votes without a message).
 */
import { defineTags, type Communicator } from 'dsmpi';
import type { MutexOptions, MutexResult } from './common.ts';
import { precedes, runMutexMachine, type MutexInput, type MutexMachine, type Out } from './mutex-driver.ts';

export const Tag = defineTags('maekawa', ['Request', 'Locked', 'Release', 'Inquire', 'Failed', 'Relinquish', 'Finished']);

type Req = [ts: number, rank: number];

/** The grid voting sets: rank i's row and column in a grid of ⌈√N⌉ columns (sorted). */
export function gridVotingSets(n: number): number[][] {
  const cols = Math.ceil(Math.sqrt(n));
  const sets: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row = Math.floor(i / cols);
    const col = i % cols;
    const members = new Set<number>();
    for (let j = 0; j < n; j++) if (Math.floor(j / cols) === row || j % cols === col) members.add(j);
    sets.push([...members].sort((a, b) => a - b));
  }
  return sets;
}

export interface MaekawaState {
  rank: number;
  /** V_rank, this rank's voting set (itself included). */
  set: number[];
  /** With false: the naive rules, no Inquire/Failed/Relinquish (can deadlock). */
  avoidDeadlock: boolean;
  clock: number;
  // As a requester:
  state: 'released' | 'wanted' | 'held';
  myTs: number;
  votes: number[];
  /** Members that refused or took their vote back: this request cannot win there now. */
  failedFrom: number[];
  /** Members that inquired while this rank had no reason yet to give the vote back. */
  inquiredBy: number[];
  // As a voter:
  lockedFor: Req | null;
  queue: Req[];
  inquired: boolean;
  /** Queued requests already told Failed ("ts:rank"). */
  failedSent: string[];
}

export function initialMaekawa(rank: number, set: number[], avoidDeadlock = true): MaekawaState {
  return {
    rank,
    set,
    avoidDeadlock,
    clock: 0,
    state: 'released',
    myTs: 0,
    votes: [],
    failedFrom: [],
    inquiredBy: [],
    lockedFor: null,
    queue: [],
    inquired: false,
    failedSent: [],
  };
}

const key = (r: Req): string => `${r[0]}:${r[1]}`;
const same = (a: Req | null, b: Req): boolean => a !== null && a[0] === b[0] && a[1] === b[1];
const without = (xs: number[], x: number): number[] => xs.filter((y) => y !== x);

function lockFor(s: MaekawaState, req: Req, out: Out[]): void {
  s.lockedFor = req;
  s.inquired = false;
  out.push({ to: req[1], tag: Tag.Locked, data: { ts: req[0] } });
}

function lockNext(s: MaekawaState, out: Out[]): void {
  s.lockedFor = null;
  s.inquired = false;
  const head = s.queue.shift();
  if (head) lockFor(s, head, out);
}

function giveBack(s: MaekawaState, voter: number, out: Out[]): void {
  s.votes = without(s.votes, voter);
  if (!s.failedFrom.includes(voter)) s.failedFrom.push(voter);
  out.push({ to: voter, tag: Tag.Relinquish, data: { ts: s.myTs } });
}

function sendFailed(s: MaekawaState, req: Req, out: Out[]): void {
  if (s.failedSent.includes(key(req))) return;
  s.failedSent.push(key(req));
  out.push({ to: req[1], tag: Tag.Failed, data: { ts: req[0] } });
}

export function stepMaekawa(s: MaekawaState, input: MutexInput): [MaekawaState, Out[]] {
  const out: Out[] = [];
  if (input.type === 'want') {
    s.clock += 1;
    s.myTs = s.clock;
    s.state = 'wanted';
    s.votes = [];
    s.failedFrom = [];
    s.inquiredBy = [];
    for (const m of s.set) out.push({ to: m, tag: Tag.Request, data: { ts: s.myTs } });
    return [s, out];
  }
  if (input.type === 'exit') {
    s.state = 'released';
    s.votes = [];
    for (const m of s.set) out.push({ to: m, tag: Tag.Release, data: { ts: s.myTs } });
    return [s, out];
  }
  const from = input.source;
  const { ts } = input.data as { ts: number };
  const mine = s.state === 'wanted' && ts === s.myTs;
  switch (input.tag) {
    // Voter side.
    case Tag.Request: {
      s.clock = Math.max(s.clock, ts) + 1;
      const req: Req = [ts, from];
      if (s.lockedFor === null) {
        lockFor(s, req, out);
        break;
      }
      const previousHead = s.queue[0];
      s.queue.push(req);
      s.queue.sort((a, b) => (precedes(a, b) ? -1 : 1));
      if (!s.avoidDeadlock) break;
      if (s.queue[0] === req && precedes(req, s.lockedFor)) {
        // The new request is the earliest of all: ask the holder to give the vote back.
        if (previousHead) sendFailed(s, previousHead, out);
        if (!s.inquired) {
          s.inquired = true;
          out.push({ to: s.lockedFor[1], tag: Tag.Inquire, data: { ts: s.lockedFor[0] } });
        }
      } else {
        sendFailed(s, req, out);
      }
      break;
    }
    case Tag.Release:
      if (same(s.lockedFor, [ts, from])) lockNext(s, out);
      break;
    case Tag.Relinquish:
      if (same(s.lockedFor, [ts, from])) {
        s.queue.push([ts, from]);
        s.queue.sort((a, b) => (precedes(a, b) ? -1 : 1));
        lockNext(s, out);
      }
      break;
    // Requester side.
    case Tag.Locked:
      if (!mine) break;
      if (!s.votes.includes(from)) s.votes.push(from);
      s.failedFrom = without(s.failedFrom, from);
      if (s.votes.length === s.set.length) {
        s.state = 'held';
        s.inquiredBy = [];
      }
      break;
    case Tag.Failed:
      if (!mine) break;
      if (!s.failedFrom.includes(from)) s.failedFrom.push(from);
      for (const v of s.inquiredBy) if (s.votes.includes(v)) giveBack(s, v, out);
      s.inquiredBy = [];
      break;
    case Tag.Inquire:
      // Stale, or already in the critical section (the Release will answer it).
      if (!mine || !s.votes.includes(from)) break;
      if (s.failedFrom.length > 0) giveBack(s, from, out);
      else if (!s.inquiredBy.includes(from)) s.inquiredBy.push(from);
      break;
  }
  return [s, out];
}

export const maekawaMachine: MutexMachine<MaekawaState> = { step: stepMaekawa, held: (s) => s.state === 'held' };

/** Messages of an uncontended entry: K−1 Requests, K−1 Locked, K−1 Releases. */
export function maekawaMessagesPerEntry(setSize: number): number {
  return 3 * (setSize - 1);
}

export interface MaekawaOptions extends MutexOptions {
  /** Voting sets (default: gridVotingSets(N)). Every two must intersect. */
  sets?: number[][];
  /** Default true; false runs the naive rules, which can deadlock. */
  avoidDeadlock?: boolean;
}

export async function maekawa(comm: Communicator, options: MaekawaOptions = {}): Promise<MutexResult & { set: number[] }> {
  const set = (options.sets ?? gridVotingSets(comm.size))[comm.rank];
  const initial = initialMaekawa(comm.rank, set, options.avoidDeadlock ?? true);
  const r = await runMutexMachine(comm, Tag, Tag.Finished, maekawaMachine, initial, options);
  return { rank: r.rank, intervals: r.intervals, sent: r.sent, set };
}
