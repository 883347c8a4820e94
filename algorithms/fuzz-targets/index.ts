/** Every fuzz target, in the order the fuzzer's table lists them. */
import type { FuzzTarget } from 'dsmpi/fuzz';
import { causalBroadcastTarget, chandyLamportTarget, gossipTarget, totalOrderTarget } from './broadcast.ts';
import { berkeleyTarget, cristianTarget, lamportClock, vectorClock } from './clocks.ts';
import { threePhase, twoPhase } from './commit.ts';
import { federatedSgd, mapreduce, stabilization } from './compute.ts';
import { leaderElection, raft, sequencePaxos, singlePaxos, singlePaxosCore } from './consensus.ts';
import { gcounter, lwwMap } from './crdt.ts';
import { bullyTarget, ringElectionTarget } from './election.ts';
import { central, maekawaTarget, ricart, ring } from './mutex.ts';
import { failureDetector, primaryBackup, telemetry } from './services.ts';

export const targets: ReadonlyArray<FuzzTarget<unknown>> = [
  singlePaxos,
  sequencePaxos,
  raft,
  leaderElection,
  twoPhase,
  threePhase,
  gcounter,
  lwwMap,
  central,
  ring,
  ricart,
  maekawaTarget,
  bullyTarget,
  ringElectionTarget,
  causalBroadcastTarget,
  totalOrderTarget,
  gossipTarget,
  chandyLamportTarget,
  lamportClock,
  vectorClock,
  cristianTarget,
  berkeleyTarget,
  failureDetector,
  primaryBackup,
  telemetry,
  mapreduce,
  stabilization,
  federatedSgd,
];

/** Smaller configurations of ports, for the explorer (its bug benchmark); the fuzzer's `all` leaves them out. */
export const explorationTargets: ReadonlyArray<FuzzTarget<unknown>> = [singlePaxosCore];

export function targetNamed(name: string): FuzzTarget<unknown> | undefined {
  return [...targets, ...explorationTargets].find((t) => t.name === name);
}
