/**
 * Fuzz targets of the computations: map-reduce word count, stabilization by averaging, federated
 * averaging (see consensus.ts for what a target holds). The first two are made of collectives over
 * a reliable network; federated averaging drops the clients that do not answer in time.
 */
import type { Communicator } from 'dsmpi';
import { LivenessError } from 'dsmpi/fuzz';
import { otherPort } from './common.ts';
import { InvariantError } from '../checkers/consensus-invariants.ts';
import { defaultFedAvgOptions, fedAvgMain, type FedAvgResult, type Model } from '../federated/fedavg.ts';
import { countWords, wordCount, type Counts, type WordCountResult } from '../mapreduce/word-count.ts';
import { stabilize, type StabilizationResult } from '../stabilization.ts';

/** Collectives over a reliable network: no message may be lost or duplicated, and no rank crash. */
const collectives = ['reordering', 'broken-fifo', 'delay', 'pause'] as const;

const VOCABULARY = ['paxos', 'raft', 'ballot', 'leader', 'quorum', 'log', 'vote', 'term'];

export const mapreduce = otherPort<{ result: WordCountResult; lines: string[] }>({
  name: 'mapreduce',
  horizonMs: 20,
  tolerates: collectives,
  setup(n) {
    // Each rank's lines (the spread case), random; and the size of the groups of the first level.
    let groupSize: number | undefined;
    return {
      async main(c: Communicator) {
        groupSize ??= 1 + Math.floor(c.random() * 3);
        const lines = Array.from({ length: 1 + Math.floor(c.random() * 4) }, () =>
          Array.from({ length: Math.floor(c.random() * 6) }, () => VOCABULARY[Math.floor(c.random() * VOCABULARY.length)]).join(' '),
        );
        return { result: await wordCount(c, 'spread', lines, groupSize), lines };
      },
      check(r) {
        if (!r || r.results.some((x) => !x)) return;
        // The result equals the sequential count of every rank's lines.
        const expected = countWords(r.results.flatMap((x) => x!.lines));
        const got = r.results[0]!.result.counts;
        if (canonical(got) !== canonical(expected))
          throw new InvariantError('sequential result', `${n} ranks counted ${canonical(got)}, sequentially ${canonical(expected)}`);
      },
    };
  },
});

const canonical = (c: Counts | undefined): string => JSON.stringify(Object.entries(c ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)));

const THRESHOLD = 0.5;

export const stabilization = otherPort<StabilizationResult>({
  name: 'stabilization',
  horizonMs: 20,
  tolerates: collectives,
  setup() {
    return {
      main: (c: Communicator) => stabilize(c, Math.round(c.random() * 1000) / 10, { threshold: THRESHOLD }),
      check(r) {
        if (!r || r.results.some((x) => !x)) return;
        const results = r.results as StabilizationResult[];
        const initialMean = results.reduce((s, x) => s + x.initial, 0) / results.length;
        const lo = Math.min(...results.map((x) => x.initial));
        const hi = Math.max(...results.map((x) => x.initial));
        results.forEach((x, rank) => {
          if (!x.stable) throw new LivenessError(`rank ${rank} not stable after ${x.rounds} rounds`);
          if (x.mean !== results[0].mean)
            throw new InvariantError('one mean', `rank ${rank} saw mean ${x.mean}, rank 0 ${results[0].mean}`);
          if (Math.abs(x.final - x.mean) > THRESHOLD)
            throw new InvariantError('stable', `rank ${rank} ends at ${x.final}, ${Math.abs(x.final - x.mean)} from the mean ${x.mean}`);
          if (x.final < lo || x.final > hi)
            throw new InvariantError('within the initial values', `rank ${rank} ends at ${x.final}, outside ${lo}..${hi}`);
        });
        const drift = Math.abs(results[0].mean - initialMean);
        if (drift > THRESHOLD) throw new InvariantError('mean kept', `the mean moved by ${drift} (threshold ${THRESHOLD})`);
      },
    };
  },
});

const ROUND_TIMEOUT_MS = 200;
const ROUNDS = 6;

/** Within `tol` of the ground truth in every parameter. */
const close = (m: Model, tol: number): boolean =>
  Math.max(...m.w.map((w, i) => Math.abs(w - defaultFedAvgOptions.truth.w[i])), Math.abs(m.b - defaultFedAvgOptions.truth.b)) <= tol;

export const federatedSgd = otherPort<FedAvgResult | undefined>({
  name: 'federated-sgd',
  minN: 2,
  horizonMs: 300,
  // Rounds with a deadline: a client that crashes, pauses or answers late is left out of a round.
  // A lost or duplicated message, or a cut one, can leave a client waiting for a Stop for ever.
  tolerates: ['reordering', 'broken-fifo', 'delay', 'crash-stop', 'pause'],
  outOfModel: (s) => (s.crashes.some((c) => c.rank === 0) ? 'the aggregator crashes' : undefined),
  setup(n) {
    return {
      main: (c: Communicator) => fedAvgMain(c, { rounds: ROUNDS, roundTimeoutMs: ROUND_TIMEOUT_MS }),
      check(r) {
        const result = r?.results[0];
        if (!result) return;
        let reports = 0;
        result.rounds.forEach((round, i) => {
          if (round.round !== i + 1) throw new InvariantError('rounds in order', `report ${i} is of round ${round.round}`);
          const bad = round.reported.filter((c, k) => c < 1 || c >= n || round.reported.indexOf(c) !== k);
          if (bad.length || round.reported.length > round.asked)
            throw new InvariantError('one update per client and round', `round ${round.round} counted ${round.reported.join(', ')}`);
          reports += round.reported.length;
        });
        // Enough updates made it (half of all there could be): the model must have learnt.
        if (reports * 2 >= ROUNDS * (n - 1) && !close(result.model, 0.3))
          throw new InvariantError('learns', `model ${JSON.stringify(result.model)} after ${reports} updates`);
      },
    };
  },
});
