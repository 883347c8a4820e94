/**
 * Push gossip (rumour spreading; course notes K1): rank 0 knows a rumour. In each round every rank
 * that knows it pushes it to `fanout` peers chosen at random; the others learn it. With fanout 1 all
 * N ranks know it after log2 N + ln N + O(1) rounds with high probability (Pittel, 1987): doubling
 * while few know, then mopping up the last ones.
 *
 * Rounds are lockstep: a round is one alltoall in which each rank's chunk for a peer is the rumour or
 * null, and an allreduce counts who knows. Only the pushes are counted as gossip messages (an
 * asynchronous gossip would send just those).
 */
import { defineTags, type Communicator } from 'dsmpi';

export const Tag = defineTags('gossip', ['Push']);

export interface GossipOptions {
  fanout?: number;
  /** Give up after this many rounds (default 10 · ⌈log2 N⌉ + 10). */
  maxRounds?: number;
}

export interface GossipResult {
  rank: number;
  /** Round in which this rank learnt the rumour (0 for rank 0). */
  learntInRound: number;
  /** Rounds until every rank knew it. */
  rounds: number;
  /** How many knew it after each round (index 0: before the first). */
  informedPerRound: number[];
  /** Pushes this rank sent. */
  pushes: number;
}

/** log2 N + ln N: the expected rounds of push gossip with fanout 1, up to a constant. */
export function expectedGossipRounds(n: number): number {
  return n <= 1 ? 0 : Math.log2(n) + Math.log(n);
}

export async function gossip(comm: Communicator, options: GossipOptions = {}): Promise<GossipResult> {
  const n = comm.size;
  const fanout = Math.min(options.fanout ?? 1, n - 1);
  const maxRounds = options.maxRounds ?? 10 * Math.ceil(Math.log2(Math.max(2, n))) + 10;
  let informed = comm.rank === 0;
  let learntInRound = informed ? 0 : -1;
  let pushes = 0;
  const informedPerRound = [await comm.allreduce(informed ? 1 : 0, 'sum')];
  let round = 0;
  while (informedPerRound[round] < n && round < maxRounds) {
    round++;
    const chunks = new Array<string | null>(n).fill(null);
    if (informed) {
      const peers = Array.from({ length: n }, (_, r) => r).filter((r) => r !== comm.rank);
      for (let k = 0; k < fanout; k++) {
        const [to] = peers.splice(Math.floor(comm.random() * peers.length), 1);
        chunks[to] = 'rumour';
        pushes++;
      }
    }
    const got = await comm.alltoall(chunks);
    if (!informed && got.some((x) => x !== null)) {
      informed = true;
      learntInRound = round;
      comm.note('informed', { round });
    }
    informedPerRound.push(await comm.allreduce(informed ? 1 : 0, 'sum'));
  }
  return { rank: comm.rank, learntInRound, rounds: round, informedPerRound, pushes };
}
