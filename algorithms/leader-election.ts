/**
 * Ballot-based bully election (book 4.2; the port of leader-election3.c, spec 2.11, which livelocked:
 * this keeps its intent and makes it work).
 *
 * A rank with no leader it trusts waits a jittered timeout, then stands with a ballot (counter, rank)
 * above every ballot it has seen: Election(ballot) to all. A rank votes (Vote) for a ballot above
 * every ballot it voted for, unless it trusts a live leader. A candidate with votes from a majority
 * (floor(n/2) + 1) is leader for that ballot and says so (Coordinator), and repeats it every period,
 * which also tells ranks that missed the election. A rank adopts a Coordinator with a ballot at least
 * its leader's, or any Coordinator when its leader is suspected. Trust comes from the embedded failure
 * detector (failure-detector.ts): when the leader is suspected, the others elect a new one.
 *
 * Safety: each rank votes once per ballot and a ballot belongs to one rank, so there is at most one
 * leader per ballot. To end, after `runMs` each rank reports its leader (Known) to all; a rank that
 * sees every live rank report the same (leader, ballot) fixes it and announces it (Final, with the
 * farewell of common/farewell.ts, which serve() runs); a rank adopts the first Final it gets. Every rank then prints that leader.
 */
import { defineTags, type Communicator } from 'dsmpi';
import { defaultFarewell, type FarewellOptions } from './common/farewell.ts';
import {
  defaultDetector,
  detectorWakeAt,
  heardFrom,
  isDetectorTag,
  startDetector,
  stepDetector,
  type DetectorOptions,
  type DetectorState,
} from './failure-detector.ts';
import {
  ballotAbove,
  Bottom,
  compareBallots,
  formatBallot,
  majority,
  maxBallot,
  nextBallot,
  sameBallot,
  type Ballot,
} from './paxos/ballot.ts';
import { others, range, serve, toAll, type Input, type Machine, type Out } from './common/serve.ts';

/** Message names; the tag registry gives them numbers no other algorithm uses. */
export const Tag = defineTags('leader-election', ['Election', 'Vote', 'Coordinator', 'Known', 'Final']);

export interface ElectionOptions {
  /** Base election timeout; each wait is uniform in [timeoutMs, 2 * timeoutMs). */
  timeoutMs: number;
  /** A candidate without a majority after this long gives up and waits again. */
  candidacyMs: number;
  /** The leader repeats Coordinator, and settling ranks repeat Known, this often. */
  periodMs: number;
  /** Elect and re-elect for this long, then settle and end. */
  runMs: number;
  detector: DetectorOptions;
  farewell: FarewellOptions;
}

export const defaultElectionOptions: ElectionOptions = {
  timeoutMs: 30,
  candidacyMs: 40,
  periodMs: 10,
  runMs: 300,
  detector: defaultDetector,
  farewell: defaultFarewell,
};

export interface Leadership {
  leader: number;
  ballot: Ballot;
}

export interface ElectionState {
  rank: number;
  size: number;
  options: ElectionOptions;
  detector: DetectorState;
  startMs: number;
  /** Highest ballot seen, and the highest this rank voted for. */
  seen: Ballot;
  voted: Ballot;
  candidate: { ballot: Ballot; votes: Set<number>; untilMs: number } | undefined;
  leader: Leadership | undefined;
  electAtMs: number;
  nextAnnounceMs: number;
  /** Settling: what each rank reported. */
  known: Array<Leadership | undefined>;
  final: Leadership | undefined;
  /** Ranks the runtime reported dead, as of the last tick. */
  dead: readonly number[];
  /** The final leadership as last written to durable storage. */
  savedFinal: Leadership | undefined;
  /** The ballots (`seen`, `voted`) as last written to durable storage. */
  savedBallots: Ballots | undefined;
  /** Every leadership this rank adopted, in order; ballots it won itself. */
  history: Array<{ leader: number; ballot: string }>;
  won: string[];
}

export function startElection(rank: number, size: number, nowMs: number, random: number, options = defaultElectionOptions): ElectionState {
  return {
    rank,
    size,
    options,
    detector: startDetector(rank, size, nowMs, options.detector),
    startMs: nowMs,
    seen: Bottom,
    voted: Bottom,
    candidate: undefined,
    leader: undefined,
    electAtMs: nowMs + options.timeoutMs * (1 + random),
    nextAnnounceMs: nowMs,
    known: new Array(size).fill(undefined),
    final: undefined,
    dead: [],
    savedFinal: undefined,
    savedBallots: undefined,
    history: [],
    won: [],
  };
}

const sameLeadership = (a: Leadership, b: Leadership): boolean => a.leader === b.leader && sameBallot(a.ballot, b.ballot);

const settling = (s: ElectionState, nowMs: number): boolean => nowMs >= s.startMs + s.options.runMs;

function trusts(s: ElectionState): boolean {
  return s.leader !== undefined && (s.leader.leader === s.rank || !s.detector.peers[s.leader.leader].suspected);
}

function adopt(s: ElectionState, l: Leadership): void {
  if (s.leader && s.leader.leader === l.leader && sameBallot(s.leader.ballot, l.ballot)) return;
  s.leader = l;
  s.voted = maxBallot(s.voted, l.ballot);
  s.seen = maxBallot(s.seen, l.ballot);
  s.history.push({ leader: l.leader, ballot: formatBallot(l.ballot) });
  if (s.candidate && !ballotAbove(s.candidate.ballot, l.ballot)) s.candidate = undefined;
}

function finish(s: ElectionState, l: Leadership): void {
  if (!s.final) s.final = l;
}

export function stepElection(s: ElectionState, input: Input): [ElectionState, Out[]] {
  const now = input.nowMs;
  if (input.type === 'tick') return [s, onTick(s, input)];
  const from = input.source;
  heardFrom(s.detector, from, now);
  if (isDetectorTag(input.tag)) return [s, stepDetector(s.detector, input)[1]];
  const out: Out[] = [];
  const d = input.data as { ballot: Ballot; leader?: number };
  switch (input.tag) {
    case Tag.Final:
      // A Final decided before its leader died, reaching a rank the runtime has told: not adopted.
      if (s.dead.includes(d.leader!)) break;
      if (!s.final) input.note?.('final', { leader: d.leader!, ballot: d.ballot });
      finish(s, { leader: d.leader!, ballot: d.ballot });
      break;
    case Tag.Election:
      s.seen = maxBallot(s.seen, d.ballot);
      if (s.final || !ballotAbove(d.ballot, s.voted) || (trusts(s) && s.leader!.leader !== from)) break;
      s.voted = d.ballot;
      if (s.candidate && ballotAbove(d.ballot, s.candidate.ballot)) s.candidate = undefined;
      // Give the candidate it votes for a full timeout to win (as Raft resets its timer on a vote):
      // a deadline left in the past would make this rank stand at once and cancel that candidate.
      s.electAtMs = now + s.options.timeoutMs * (1 + input.random);
      out.push({ to: from, tag: Tag.Vote, data: { ballot: d.ballot } });
      break;
    case Tag.Vote:
      if (!s.candidate || !sameBallot(d.ballot, s.candidate.ballot)) break;
      s.candidate.votes.add(from);
      if (s.candidate.votes.size >= majority(s.size)) {
        const ballot = s.candidate.ballot;
        s.candidate = undefined;
        s.won.push(formatBallot(ballot));
        input.note?.('elected', ballot);
        adopt(s, { leader: s.rank, ballot });
        s.nextAnnounceMs = now + s.options.periodMs;
        out.push(...toAll(others(s.rank, s.size), Tag.Coordinator, { ballot }));
      }
      break;
    case Tag.Coordinator:
      if (s.final) break;
      if (!s.leader || compareBallots(d.ballot, s.leader.ballot) >= 0 || !trusts(s)) adopt(s, { leader: from, ballot: d.ballot });
      break;
    case Tag.Known:
      s.known[from] = { leader: d.leader!, ballot: d.ballot };
      break;
  }
  return [s, out];
}

function onTick(s: ElectionState, input: Extract<Input, { type: 'tick' }>): Out[] {
  const now = input.nowMs;
  const out = stepDetector(s.detector, input)[1];
  s.dead = input.failed;
  if (s.final) return out; // serve() announces the leader (Final) until the run ends
  const dead = (r: number): boolean => input.failed.includes(r);
  // While settling, only a leader the runtime reports dead is given up (suspicions may be false).
  const lost = settling(s, now) ? s.leader !== undefined && dead(s.leader.leader) : s.leader !== undefined && !trusts(s);
  if (lost) {
    s.leader = undefined;
    s.electAtMs = now + s.options.timeoutMs * (1 + input.random);
  }
  if (s.candidate && now >= s.candidate.untilMs) {
    s.candidate = undefined;
    s.electAtMs = now + s.options.timeoutMs * (1 + input.random);
  }
  if (!s.leader && !s.candidate && now >= s.electAtMs) {
    const ballot = nextBallot(maxBallot(s.seen, s.voted), s.rank);
    s.seen = ballot;
    s.candidate = { ballot, votes: new Set(), untilMs: now + s.options.candidacyMs };
    input.note?.('candidate', ballot);
    out.push(...toAll(range(0, s.size), Tag.Election, { ballot }));
  }
  if (now >= s.nextAnnounceMs) {
    s.nextAnnounceMs = now + s.options.periodMs;
    if (s.leader?.leader === s.rank) out.push(...toAll(others(s.rank, s.size), Tag.Coordinator, { ballot: s.leader.ballot }));
    if (settling(s, now) && s.leader) {
      s.known[s.rank] = s.leader;
      out.push(...toAll(others(s.rank, s.size), Tag.Known, s.leader));
      const mine = s.leader;
      const agreed = s.known.every((k, r) => dead(r) || (k && sameLeadership(k, mine)));
      if (agreed && !s.final) input.note?.('final', mine);
      if (agreed) finish(s, mine);
    }
  }
  return out;
}

export function electionWakeAt(s: ElectionState): number {
  const fd = detectorWakeAt(s.detector);
  if (s.final) return fd;
  let at = Math.min(fd, s.nextAnnounceMs);
  if (!s.leader && !s.candidate) at = Math.min(at, s.electAtMs);
  if (s.candidate) at = Math.min(at, s.candidate.untilMs);
  return at;
}

export const electionMachine: Machine<ElectionState> = {
  step: stepElection,
  wakeAtMs: electionWakeAt,
  done: () => false,
  farewell: {
    tag: Tag.Final,
    options: (s) => s.options.farewell,
    outcome: (s) => s.final,
    // A Final of a leader the runtime reports dead is not taken, nor one of another leadership.
    agrees: (s, d) => !s.dead.includes((d as Leadership).leader) && s.final !== undefined && sameLeadership(s.final, d as Leadership),
    abandon: (s, failed) => {
      // The final leader died before this rank left: it was fixed on news older than its death, so
      // settle again on a live one (the others still here do the same).
      if (!s.final || !failed.includes(s.final.leader)) return false;
      s.final = undefined;
      return true;
    },
  },
  persist: (s, storage) => {
    // The outcome is durable before it is first announced: a rank that restarts after announcing it
    // (the others may count on it knowing) knows it again.
    if (s.final !== s.savedFinal) {
      storage.set(StorageKey, s.final ?? null);
      s.savedFinal = s.final;
    }
    // So are the ballots before a vote goes out (as Raft's term and vote), and the ballot this rank
    // leads. A rank that forgot its votes could help a ballot below the current leader's win; a
    // leader that forgot it leads would follow another while its own followers, trusting it alive,
    // never adopt a lower ballot. Either way the ranks would settle on two leaders, never agreeing.
    const led = s.leader?.leader === s.rank ? s.leader.ballot : null;
    const saved = s.savedBallots;
    if (!saved || !sameBallot(saved.seen, s.seen) || !sameBallot(saved.voted, s.voted) || !sameLed(saved.led, led)) {
      s.savedBallots = { seen: s.seen, voted: s.voted, led };
      storage.set(BallotsKey, s.savedBallots);
    }
  },
};

const StorageKey = 'leader-election.final';
const BallotsKey = 'leader-election.ballots';

interface Ballots {
  seen: Ballot;
  voted: Ballot;
  /** The ballot this rank won and still leads with. */
  led: Ballot | null;
}

const sameLed = (a: Ballot | null, b: Ballot | null): boolean => (a === null || b === null ? a === b : sameBallot(a, b));

export interface ElectionOutcome {
  rank: number;
  leader: number;
  ballot: string;
  history: Array<{ leader: number; ballot: string }>;
  won: string[];
}

/** Runs the election on this rank until every live rank agrees on the leader; prints nothing. */
export async function leaderElectionMain(comm: Communicator, options = defaultElectionOptions): Promise<ElectionOutcome> {
  const state = startElection(comm.rank, comm.size, comm.clock.now(), comm.random(), options);
  const ballots = comm.storage.get<Ballots>(BallotsKey);
  if (ballots) {
    state.seen = ballots.seen;
    state.voted = ballots.voted;
    if (ballots.led) state.leader = { leader: comm.rank, ballot: ballots.led };
    state.savedBallots = ballots;
  }
  const saved = comm.storage.get<Leadership | null>(StorageKey);
  if (saved) {
    finish(state, saved);
    state.savedFinal = state.final;
  }
  const s = await serve(comm, electionMachine, state);
  return { rank: s.rank, leader: s.final!.leader, ballot: formatBallot(s.final!.ballot), history: s.history, won: s.won };
}
