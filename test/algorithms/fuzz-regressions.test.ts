// Every failure the fuzzer found, as its minimal schedule: each must now pass (docs/fuzzing.md).
// Replay one by hand with `npm run fuzz -- <algorithm> --replay '<schedule>'`.
import t from 'tap';
import { runCase, type FaultSchedule } from 'dsmpi/fuzz';
import { targetNamed } from '../../algorithms/fuzz-targets/index.ts';

interface Regression {
  algorithm: string;
  what: string;
  schedule: FaultSchedule;
}

const regressions: Regression[] = [
  {
    algorithm: 'leader-election',
    what: 'livelock with no fault but 0.1..30 ms delays: candidates keep cancelling each other',
    schedule: { n: 7, seed: 1244659709, noisyForMs: 0, delayMs: 30, partitions: [], crashes: [], pauses: [] },
  },
  {
    algorithm: 'leader-election',
    what: 'the same livelock at n = 9',
    schedule: { n: 9, seed: 4294967284, noisyForMs: 0, delayMs: 30, partitions: [], crashes: [], pauses: [] },
  },
  {
    algorithm: 'sequence-paxos',
    what: 'no log completes with no fault but 0.1..30 ms delays (n = 9)',
    schedule: { n: 9, seed: 4294967284, noisyForMs: 0, delayMs: 30, partitions: [], crashes: [], pauses: [] },
  },
  {
    algorithm: 'single-paxos',
    what: 'the telemetry rank restarts after the others have left and never finishes',
    schedule: {
      n: 8,
      seed: 2095046715,
      noisyForMs: 144,
      duplicates: 0.13,
      partitions: [
        { side: [2, 3, 4, 6, 7], atMs: 23, forMs: 166, oneWay: true },
        { side: [0, 3, 4, 6, 7], atMs: 45, forMs: 2, oneWay: true },
      ],
      crashes: [{ rank: 7, restartAfterMs: 2997, atMs: 4 }],
      pauses: [],
    },
  },
  {
    algorithm: 'three-phase-commit',
    what: 'a participant that crashes right after its Ack had its yes vote counted as missing (a false validity alarm)',
    schedule: { n: 3, seed: 2420185393, noisyForMs: 0, partitions: [], crashes: [{ rank: 1, afterSends: 2 }], pauses: [] },
  },
  {
    algorithm: 'leader-election',
    what: 'ranks that restart forget their votes, elect a ballot below the living leader, and its followers never agree',
    schedule: {
      n: 3,
      seed: 4294967276,
      noisyForMs: 0,
      partitions: [{ side: [0, 2], atMs: 386, forMs: 568, oneWay: false }],
      crashes: [
        { rank: 1, restartAfterMs: 1189, afterDeliveries: 31 },
        { rank: 2, restartAfterMs: 396, afterDeliveries: 2 },
        { rank: 0, restartAfterMs: 2296, afterDeliveries: 3 },
      ],
      pauses: [],
    },
  },
  {
    algorithm: 'sequence-paxos',
    what: 'the observer saw a step of a crashed incarnation (messages it had received ran on): a false prefix alarm',
    schedule: {
      n: 6,
      seed: 1996410710,
      noisyForMs: 0,
      partitions: [],
      crashes: [
        { rank: 0, restartAfterMs: 2, afterSends: 37 },
        { rank: 0, restartAfterMs: 90, afterDeliveries: 3 },
      ],
      pauses: [],
    },
  },
  {
    algorithm: 'sequence-paxos',
    what: 'with round trips over retryMs, an acceptor Nacks the leader resending its Prepare, and every ballot is deposed (n = 6, no fault)',
    schedule: { n: 6, seed: 2348780595, noisyForMs: 0, delayMs: 30, partitions: [], crashes: [], pauses: [] },
  },
  {
    algorithm: 'sequence-paxos',
    what: 'the same at n = 9',
    schedule: { n: 9, seed: 2996303571, noisyForMs: 0, delayMs: 27, partitions: [], crashes: [], pauses: [] },
  },
  {
    algorithm: 'leader-election',
    what: 'a leader that restarts forgets it leads and follows a lower ballot, while its followers keep trusting it',
    schedule: {
      n: 6,
      seed: 18,
      noisyForMs: 0,
      reorder: { probability: 0.1, maxMs: 5 },
      brokenFifo: true,
      partitions: [
        { side: [0, 3, 4], atMs: 332, forMs: 867, oneWay: false },
        { side: [0, 3, 4, 5], atMs: 168, forMs: 603, oneWay: false },
      ],
      crashes: [
        { rank: 0, restartAfterMs: 204, atMs: 239 },
        { rank: 3, restartAfterMs: 4, afterSends: 26 },
      ],
      pauses: [],
    },
  },
  {
    algorithm: 'single-paxos',
    what: 'the telemetry rank restarts while the others finish, never hears the client that left, and waits for it for ever',
    schedule: {
      n: 6,
      seed: 3831715456,
      noisyForMs: 0,
      delayMs: 29,
      partitions: [],
      crashes: [
        { rank: 5, restartAfterMs: 2851, atMs: 60 },
        { rank: 0, restartAfterMs: 1667, afterSends: 19 },
        { rank: 5, restartAfterMs: 2399, afterDeliveries: 2 },
      ],
      pauses: [],
    },
  },
  {
    algorithm: 'primary-backup',
    what: "the backups leave on the clients' Done while the paused primary still applies a late request: two stores",
    schedule: {
      n: 4,
      seed: 24,
      noisyForMs: 0,
      partitions: [],
      crashes: [],
      pauses: [
        { rank: 3, atMs: 32, forMs: 30 },
        { rank: 0, atMs: 37, forMs: 583 },
      ],
    },
  },
  {
    algorithm: 'primary-backup',
    what: 'the same with reordering, at n = 8',
    schedule: {
      n: 8,
      seed: 115296559,
      noisyForMs: 0,
      reorder: { probability: 0.2, maxMs: 5 },
      partitions: [],
      crashes: [],
      pauses: [
        { rank: 0, atMs: 72, forMs: 343 },
        { rank: 2, atMs: 84, forMs: 213 },
      ],
    },
  },
];

for (const r of regressions) {
  t.test(`${r.algorithm}: ${r.what}`, async (t) => {
    const outcome = await runCase(targetNamed(r.algorithm)!, r.schedule);
    t.ok(outcome.inModel, 'inside the fault model');
    t.equal(outcome.verdict, 'ok', outcome.message);
  });
}
