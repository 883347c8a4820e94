/**
 * Fuzz targets of the consensus ports: which program runs, which invariants the observers check
 * after every step, the fault model, and the liveness bound after stabilization their pages state.
 */
import type { FuzzTarget } from 'dsmpi/fuzz';
import {
  checkCompleteLog,
  checkConsensus,
  checkOneLeaderPerBallot,
  checkPrefixInvariant,
  type LogObservation,
} from '../checkers/consensus-invariants.ts';
import { checkElectionSafety, checkLeaderCompleteness, checkRaftEvents, type RaftRecord } from '../checkers/raft-invariants.ts';
import { leaderElectionMain, defaultElectionOptions, type ElectionOutcome } from '../leader-election.ts';
import { defaultSequenceOptions, sequencePaxosMain, type SequenceOutcome, type Value } from '../paxos/sequence-paxos.ts';
import {
  corePaxosLayout,
  defaultPaxosOptions,
  paxosLayout,
  singlePaxosMain,
  type PaxosOptions,
  type PaxosOutcome,
} from '../paxos/single-paxos.ts';
import { defaultRaftOptions, raftMain, type RaftOutcome } from '../raft/raft.ts';
import { EVERY_FAULT, liveRanks } from './common.ts';

const clientValue = (rank: number): number => 40 + rank;

export const singlePaxos: FuzzTarget<PaxosOutcome<number>> = {
  name: 'single-paxos',
  family: 'consensus',
  minN: 5,
  maxN: 9,
  horizonMs: 100,
  tolerates: EVERY_FAULT,
  outOfModel(s) {
    // One client, one proposer and one learner below n = 10: their crash-stop leaves nobody to decide.
    const { acceptors } = paxosLayout(s.n);
    const stops = s.crashes.filter((c) => c.restartAfterMs === undefined).map((c) => c.rank);
    const lone = stops.filter((r) => !acceptors.includes(r));
    if (lone.length) return `crash-stop of rank ${lone.join(', ')}, the only one in its role`;
    if (stops.length * 2 >= acceptors.length) return 'crash-stop of half the acceptors or more';
    return undefined;
  },
  livenessMs: () => 5_000,
  setup: (n) => paxosSetup(n, defaultPaxosOptions),
};

/**
 * The same port in its core layout (corePaxosLayout): two proposers with their own values and n − 2
 * acceptors, nothing else; the explorer's bug benchmark runs its Paxos mutants on it at n = 5.
 */
export const singlePaxosCore: FuzzTarget<PaxosOutcome<number>> = {
  ...singlePaxos,
  name: 'single-paxos-core',
  minN: 3,
  outOfModel(s) {
    const stops = s.crashes.filter((c) => c.restartAfterMs === undefined).map((c) => c.rank);
    if (stops.some((r) => r < 2)) return 'crash-stop of a proposer';
    if (stops.length * 2 >= s.n - 2) return 'crash-stop of half the acceptors or more';
    return undefined;
  },
  setup: (n) => paxosSetup(n, { ...defaultPaxosOptions, layout: corePaxosLayout }),
};

function paxosSetup(n: number, options: PaxosOptions): ReturnType<FuzzTarget<PaxosOutcome<number>>['setup']> {
  const layout = (options.layout ?? paxosLayout)(n);
  const proposed = (layout.clients.length > 0 ? layout.clients : layout.proposers).map(clientValue);
  return {
    main: (c) => singlePaxosMain(c, clientValue, options),
    check(r) {
      if (!r) return;
      // Decisions of every rank, those that crashed for good included (from their durable storage).
      const decided = r.results.map(
        (o, rank) => o?.decided ?? r.storage(rank).get<{ decided?: { value: number } | null }>('single-paxos')?.decided?.value,
      );
      checkConsensus(decided, proposed, { requireAll: liveRanks(r) });
    },
  };
}

const valuesOf =
  (perClient: number) =>
  (rank: number): Value[] =>
    Array.from({ length: perClient }, (_, i) => `c${rank}-${i}`);

export const sequencePaxos: FuzzTarget<SequenceOutcome> = {
  name: 'sequence-paxos',
  family: 'consensus',
  minN: 1,
  maxN: 9,
  horizonMs: 100,
  tolerates: EVERY_FAULT,
  livenessMs: () => 5_000,
  setup(n) {
    const seen: LogObservation[] = [];
    const values = valuesOf(2);
    return {
      main: (c) => sequencePaxosMain(c, values, defaultSequenceOptions, (rank, log, atMs) => seen.push({ rank, log, atMs })),
      check(r) {
        checkPrefixInvariant(seen);
        if (r) checkEveryLogComplete(r.results, n, values);
      },
    };
  },
};

/** Every finished rank's log holds every value that any rank submitted. */
function checkEveryLogComplete(
  results: ReadonlyArray<{ log: ReadonlyArray<unknown> } | undefined>,
  n: number,
  values: (rank: number) => unknown[],
): void {
  const submitted = Array.from({ length: n }, (_, rank) => values(rank)).flat();
  results.forEach((o, rank) => o && checkCompleteLog(rank, o.log, submitted));
}

export const raft: FuzzTarget<RaftOutcome> = {
  name: 'raft',
  family: 'consensus',
  minN: 1,
  maxN: 9,
  horizonMs: 400,
  tolerates: EVERY_FAULT,
  livenessMs: () => 5_000,
  setup(n) {
    const events: RaftRecord[] = [];
    const values = valuesOf(2);
    // The leaders and commits seen so far, for the checks after every event.
    const leaders: Extract<RaftRecord, { type: 'leader' }>[] = [];
    const commits: Extract<RaftRecord, { type: 'commit' }>[] = [];
    let seen = 0;
    return {
      main: (c) =>
        raftMain(c, values, defaultRaftOptions, (e) => {
          events.push(e);
          if (e.type === 'leader') leaders.push(e);
          else if (e.type === 'commit') commits.push(e);
        }),
      always: () => {
        if (leaders.length + commits.length === seen) return;
        seen = leaders.length + commits.length;
        checkElectionSafety(leaders);
        checkLeaderCompleteness(commits, leaders);
      },
      check(r) {
        checkRaftEvents(events);
        if (r) checkEveryLogComplete(r.results, n, values);
      },
    };
  },
};

export const leaderElection: FuzzTarget<ElectionOutcome> = {
  name: 'leader-election',
  family: 'consensus',
  minN: 1,
  maxN: 9,
  horizonMs: 400,
  tolerates: EVERY_FAULT,
  livenessMs: () => 5_000,
  setup() {
    return {
      main: (c) => leaderElectionMain(c, { ...defaultElectionOptions, runMs: 200 }),
      check(r) {
        if (!r) return;
        const done = r.results.flatMap((o, rank) => (o ? [{ o, rank }] : []));
        checkOneLeaderPerBallot(
          done.flatMap(({ o, rank }) => [
            ...o.history.map((h) => ({ ...h, seenBy: rank })),
            ...o.won.map((b) => ({ ballot: b, leader: rank, seenBy: rank })),
          ]),
        );
        const finals = new Set(done.map(({ o }) => `${o.leader}@${o.ballot}`));
        if (finals.size > 1) throw new Error(`live ranks end with different leaders: ${[...finals].join(', ')}`);
        const leader = done[0]?.o.leader;
        if (leader !== undefined && r.crashed.includes(leader)) throw new Error(`the final leader ${leader} crashed`);
      },
    };
  },
};
