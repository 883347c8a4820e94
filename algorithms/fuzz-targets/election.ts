/**
 * Fuzz targets of the classic elections (see consensus.ts for what a target holds). Safety: every
 * live rank names the same leader, and it is the one the algorithm promises: the largest id for
 * the ring, a rank with no live rank above it for the bully. Liveness: every live rank has one.
 */
import type { Communicator } from 'dsmpi';
import { LivenessError } from 'dsmpi/fuzz';
import { otherPort } from './common.ts';
import { bully, type BullyResult } from '../classic/bully.ts';
import { ringElection, type RingElectionResult } from '../classic/ring-election.ts';
import { InvariantError } from '../checkers/consensus-invariants.ts';

/**
 * The bully's timeouts exceed the longest round trip the schedules draw (latency up to 30 ms, held
 * back up to 20 ms more each way): its synchrony assumption. Every rank starts an election.
 */
const ANSWER_TIMEOUT_MS = 120;

export const bullyTarget = otherPort<BullyResult>({
  name: 'bully',
  horizonMs: 400,
  // A synchronous system: bounded delays, crash-stop detected by timeouts. Loss and partitions look
  // like crashes and a pause breaks the time bound.
  tolerates: ['reordering', 'broken-fifo', 'delay', 'crash-stop'],
  setup(n) {
    return {
      main: (c: Communicator) => bully(c, { starters: Array.from({ length: n }, (_, r) => r), answerTimeoutMs: ANSWER_TIMEOUT_MS }),
      check(r) {
        if (!r) return;
        const live = r.results.flatMap((x) => (x ? [x] : []));
        const leaders = new Set(live.map((x) => x.leader));
        if (leaders.size > 1) throw new InvariantError('one leader', `the live ranks name ${[...leaders].join(', ')}`);
        const [leader] = leaders;
        if (leader === undefined) throw new LivenessError('no live rank knows a leader');
        const above = live.filter((x) => x.rank > leader).map((x) => x.rank);
        if (above.length)
          throw new InvariantError('highest live rank', `leader ${leader}, but rank(s) ${above.join(', ')} above it are alive`);
      },
    };
  },
});

interface RingRun {
  result: RingElectionResult;
  ids: number[];
}

export const ringElectionTarget = otherPort<RingRun>({
  name: 'ring-election',
  horizonMs: 20,
  // Chang and Roberts assume reliable FIFO channels and no crash.
  tolerates: ['reordering', 'delay', 'pause'],
  setup() {
    // Distinct ids and a random set of initiators (at least one), the same for every rank: drawn by
    // the first rank to start (the ranks of a simulation share this closure).
    let drawn: { ids: number[]; initiators: number[] } | undefined;
    return {
      async main(c: Communicator) {
        drawn ??= draw(c.size, () => c.random());
        return { result: await ringElection(c, drawn), ids: drawn.ids };
      },
      check(r) {
        if (!r) return;
        r.results.forEach((x) => {
          if (!x) return;
          const max = Math.max(...x.ids);
          if (x.result.leader !== max)
            throw new InvariantError('largest id', `rank ${x.result.rank} elected ${x.result.leader}, the largest id is ${max}`);
        });
      },
    };
  },
});

function draw(n: number, random: () => number): { ids: number[]; initiators: number[] } {
  const ids = Array.from({ length: n }, (_, r) => 10 * r + 3);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [ids[i], ids[j]] = [ids[j], ids[i]];
  }
  const initiators = Array.from({ length: n }, (_, r) => r).filter((r) => r === 0 || random() < 0.4);
  return { ids, initiators };
}
