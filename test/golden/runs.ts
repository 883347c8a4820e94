/**
 * The golden runs: one simulated run per algorithm, one seed each, with a little delay and
 * reordering so the scheduler's choices show. golden.test.ts replays each and compares its trace
 * with the committed `traces/<name>.jsonl`: any change to scheduling, matching, the codec's sizes or
 * an algorithm's messages shows up as a diff there. Regenerate on purpose with `npm run golden:update`.
 *
 * Append runs; change one only together with its trace file.
 */
import { ANY_SOURCE, ANY_TAG, type Communicator, type FaultOptions } from 'dsmpi';
import { berkeley } from '../../algorithms/classic/berkeley.ts';
import { bully } from '../../algorithms/classic/bully.ts';
import { causalBroadcast } from '../../algorithms/classic/causal-broadcast.ts';
import { centralMutex } from '../../algorithms/classic/central-mutex.ts';
import { chandyLamport } from '../../algorithms/classic/chandy-lamport.ts';
import { cristian } from '../../algorithms/classic/cristian.ts';
import { gossip } from '../../algorithms/classic/gossip.ts';
import { maekawa } from '../../algorithms/classic/maekawa.ts';
import { ricartAgrawala } from '../../algorithms/classic/ricart-agrawala.ts';
import { ringElection } from '../../algorithms/classic/ring-election.ts';
import { tokenRing } from '../../algorithms/classic/token-ring.ts';
import { totalOrderMulticast } from '../../algorithms/classic/total-order-multicast.ts';
import { LamportClock } from '../../algorithms/clocks/lamport-clock.ts';
import { runScenario } from '../../algorithms/clocks/scenario.ts';
import { VectorClock } from '../../algorithms/clocks/vector-clock.ts';
import { threePhaseCommit } from '../../algorithms/commit/three-phase-commit.ts';
import { twoPhaseCommit } from '../../algorithms/commit/two-phase-commit.ts';
import { gossipUntilConverged } from '../../algorithms/crdt/anti-entropy.ts';
import { gcounterCanonical, gcounterEmpty, gcounterIncrement, gcounterMerge } from '../../algorithms/crdt/gcounter.ts';
import { ReplicatedMap } from '../../algorithms/crdt/replicated-map.ts';
import { detectorMain } from '../../algorithms/failure-detector.ts';
import { defaultFedAvgOptions, fedAvgMain } from '../../algorithms/federated/fedavg.ts';
import { defaultElectionOptions, leaderElectionMain } from '../../algorithms/leader-election.ts';
import { wordCount } from '../../algorithms/mapreduce/word-count.ts';
import { defaultSequenceOptions, sequencePaxosMain } from '../../algorithms/paxos/sequence-paxos.ts';
import { defaultPaxosOptions, singlePaxosMain } from '../../algorithms/paxos/single-paxos.ts';
import { defaultRaftOptions, raftMain } from '../../algorithms/raft/raft.ts';
import { primaryBackupMain } from '../../algorithms/replication/primary-backup.ts';
import { stabilize } from '../../algorithms/stabilization.ts';
import { runManager, runWorker } from '../../algorithms/autoscaler/autoscaler.ts';
import { scriptedSampler } from '../../algorithms/autoscaler/load-sampler.ts';
import { pipeline } from '../../algorithms/resilient-pipeline.ts';
import { collectTelemetry, instrument, summarize } from '../../algorithms/telemetry/telemetry.ts';

export interface GoldenRun {
  n: number;
  seed: number;
  faults?: FaultOptions;
  timeLimitMs?: number;
  main: (comm: Communicator) => Promise<unknown>;
}

const jitter: FaultOptions = { delay: { minMs: 0.1, maxMs: 4 }, reorder: { probability: 0.3, maxMs: 4 } };
const lossy: FaultOptions = { ...jitter, drop: 0.05, duplicate: 0.05 };

/** The runtime's own collectives, one of each, so a change to their message order shows too. */
async function collectives(c: Communicator): Promise<unknown> {
  await c.barrier();
  const b = await c.bcast(c.rank === 0 ? { hello: 'ranks' } : undefined, 0);
  const sum = await c.allreduce(c.rank + 1, 'sum');
  const max = await c.reduce(c.rank * 3, 'max', 1);
  const all = await c.allgather(c.rank);
  const g = await c.gather(c.rank * c.rank, 2);
  const s = await c.scatter(c.rank === 0 ? Array.from({ length: c.size }, (_, i) => `part ${i}`) : undefined, 0);
  const a = await c.alltoall(Array.from({ length: c.size }, (_, i) => c.rank * 10 + i));
  const scan = await c.scan(c.rank, 'sum');
  return { b, sum, max, all, g, s, a, scan };
}

/**
 * Point-to-point with messages queued before their receive: each rank answers every message it
 * takes with tag + 100, so the trace's send order shows the matching order (a matcher that let a
 * later message overtake an earlier one from the same sender changes it).
 */
async function pointToPoint(c: Communicator): Promise<unknown[]> {
  for (let round = 0; round < 3; round++) for (let d = 0; d < c.size; d++) if (d !== c.rank) await c.send(round, d, 1 + round);
  await c.clock.sleep(5 + c.random() * 5);
  const got: unknown[] = [];
  for (let i = 0; i < 3 * (c.size - 1); i++) {
    const m = await c.recv(ANY_SOURCE, ANY_TAG);
    got.push([m.source, m.tag]);
    await c.send(m.data, m.source, m.tag + 100);
  }
  for (let i = 0; i < 3 * (c.size - 1); i++) await c.recv(ANY_SOURCE, ANY_TAG);
  return got;
}

export const goldenRuns: Record<string, GoldenRun> = {
  'point-to-point': { n: 3, seed: 29, faults: jitter, main: pointToPoint },
  collectives: { n: 5, seed: 1, faults: jitter, main: collectives },
  berkeley: { n: 4, seed: 2, faults: jitter, main: (c) => berkeley(c) },
  bully: { n: 4, seed: 3, main: (c) => bully(c, { down: [3], crashBeforeAnnouncing: [2] }) },
  'causal-broadcast': { n: 4, seed: 4, faults: jitter, main: (c) => causalBroadcast(c, { count: 2 }) },
  'central-mutex': { n: 4, seed: 5, faults: jitter, main: (c) => centralMutex(c, { entries: 2 }) },
  'chandy-lamport': { n: 4, seed: 6, faults: jitter, main: (c) => chandyLamport(c) },
  cristian: { n: 3, seed: 7, faults: jitter, main: (c) => cristian(c) },
  gossip: { n: 5, seed: 8, faults: jitter, main: (c) => gossip(c) },
  maekawa: { n: 4, seed: 9, faults: jitter, main: (c) => maekawa(c, { entries: 1 }) },
  'ricart-agrawala': { n: 4, seed: 10, faults: jitter, main: (c) => ricartAgrawala(c, { entries: 2 }) },
  'ring-election': { n: 5, seed: 11, faults: jitter, main: (c) => ringElection(c, { initiators: [1, 3] }) },
  'token-ring': { n: 4, seed: 12, faults: jitter, main: (c) => tokenRing(c, { entries: 2 }) },
  'total-order-multicast': { n: 4, seed: 13, faults: jitter, main: (c) => totalOrderMulticast(c, { count: 2 }) },
  clocks: {
    n: 3,
    seed: 14,
    faults: jitter,
    main: async (c) => ({
      lamport: await runScenario(c, new LamportClock()),
      vector: await runScenario(await c.dup(), new VectorClock(c.rank, c.size)),
    }),
  },
  'two-phase-commit': { n: 4, seed: 15, faults: lossy, main: (c) => twoPhaseCommit(c, { vote: (rank) => rank !== 2 || c.random() < 0.5 }) },
  'three-phase-commit': { n: 4, seed: 16, faults: lossy, main: (c) => threePhaseCommit(c) },
  'crdt-gcounter': {
    n: 4,
    seed: 17,
    faults: lossy,
    main: async (c) => {
      const mine = gcounterIncrement(gcounterEmpty(), c.rank, 1 + c.rank);
      const g = await gossipUntilConverged(c, { merge: gcounterMerge, canonical: gcounterCanonical }, mine);
      return g.converged ? gcounterCanonical(g.state) : undefined;
    },
  },
  'crdt-replicated-map': {
    n: 4,
    seed: 18,
    faults: lossy,
    main: async (c) => {
      const map = new ReplicatedMap<number>(c.rank);
      map.put('KEN', 100 + c.rank);
      if (c.rank === 1) map.delete('KEN');
      await map.sync(c, { epoch: 0 });
      return map.visible();
    },
  },
  'failure-detector': { n: 4, seed: 19, faults: { ...jitter, crashes: [{ rank: 2, atMs: 60 }] }, main: (c) => detectorMain(c, 150) },
  'federated-sgd': {
    n: 4,
    seed: 20,
    faults: jitter,
    main: (c) => fedAvgMain(c, { ...defaultFedAvgOptions, rounds: 2, samplesPerClient: 10 }),
  },
  'leader-election': { n: 4, seed: 21, faults: lossy, main: (c) => leaderElectionMain(c, { ...defaultElectionOptions, runMs: 150 }) },
  mapreduce: {
    n: 4,
    seed: 22,
    faults: jitter,
    main: (c) => wordCount(c, 'scatter', c.rank === 0 ? ['the cat', 'the hat', 'a map', 'reduce the map', 'paxos'] : [], 2),
  },
  'single-paxos': { n: 5, seed: 23, faults: lossy, main: (c) => singlePaxosMain(c, (rank) => 40 + rank, defaultPaxosOptions) },
  'sequence-paxos': {
    n: 3,
    seed: 24,
    faults: lossy,
    main: (c) => sequencePaxosMain(c, (rank) => [`c${rank}-0`, `c${rank}-1`], defaultSequenceOptions),
  },
  raft: { n: 3, seed: 25, faults: lossy, main: (c) => raftMain(c, (rank) => [`c${rank}-0`, `c${rank}-1`], defaultRaftOptions) },
  'primary-backup': { n: 4, seed: 26, faults: jitter, main: (c) => primaryBackupMain(c, { replicas: 2, opsPerClient: 3 }) },
  stabilization: { n: 4, seed: 27, faults: jitter, main: (c) => stabilize(c, 10 * c.rank) },
  autoscaler: {
    n: 1,
    seed: 28,
    main: async (c) => {
      if (c.parent) return runWorker(c, async (task) => (await c.clock.sleep(40), (task.payload as number) + 1));
      const load = [90, 90, 90, 50, 10, 10, 10];
      const policy = { minWorkers: 1, maxWorkers: 3, patience: 1, cooldown: 1 };
      return runManager(c, {
        tasks: [1, 2, 3, 4, 5, 6],
        sampler: scriptedSampler(load),
        sampleMs: 100,
        minSamples: load.length,
        policy,
        log: () => undefined,
      });
    },
  },
  'resilient-pipeline': {
    n: 3,
    seed: 30,
    faults: { ...jitter, crashes: [{ rank: 1, atMs: 120 }] },
    main: (c) => pipeline(c, { items: 10, periodMs: 25 }),
  },
  telemetry: { n: 5, seed: 31, faults: jitter, main: telemetry },
};

/** Single Paxos on a communicator instrumented for telemetry, reported to the last rank on a dup. */
async function telemetry(world: Communicator): Promise<unknown> {
  const channel = await world.dup();
  await world.barrier();
  const tel = instrument(world, channel, world.size - 1, world.clock.now());
  const o = await singlePaxosMain(tel.comm, (rank) => 40 + rank, defaultPaxosOptions);
  await tel.end();
  if (world.rank !== world.size - 1) return o.decided;
  return summarize(await collectTelemetry(channel));
}
