/** Every fuzz target, in the order the fuzzer's table lists them. */
import type { FuzzTarget } from 'dsmpi/fuzz';
import { threePhase, twoPhase } from './commit.ts';
import { leaderElection, raft, sequencePaxos, singlePaxos } from './consensus.ts';
import { gcounter, lwwMap } from './crdt.ts';
import { central, maekawaTarget, ricart, ring } from './mutex.ts';

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
];

export function targetNamed(name: string): FuzzTarget<unknown> | undefined {
  return targets.find((t) => t.name === name);
}
