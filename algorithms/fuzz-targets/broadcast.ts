/**
 * Fuzz targets of the classic broadcasts and the snapshot (see consensus.ts for what a target
 * holds): causal broadcast, totally ordered multicast, push gossip and Chandy-Lamport. None of them
 * retransmits or survives a crash: their model is a reliable network, FIFO where they say so.
 */
import type { Communicator } from 'dsmpi';
import { LivenessError } from 'dsmpi/fuzz';
import { otherPort } from './common.ts';
import { causalBroadcast, causalViolation, type CausalResult } from '../classic/causal-broadcast.ts';
import { chandyLamport, checkSnapshot, type SnapshotResult } from '../classic/chandy-lamport.ts';
import { gossip, type GossipResult } from '../classic/gossip.ts';
import { totalOrderMulticast, type TotalOrderResult } from '../classic/total-order-multicast.ts';
import { InvariantError } from '../checkers/consensus-invariants.ts';

const COUNT = 3;

/** Every message in `ids` exactly once: a duplicate is a safety violation, a missing one a liveness failure. */
function checkExactlyOnce(rank: number, ids: readonly string[], expected: number): void {
  const twice = ids.find((id, i) => ids.indexOf(id) !== i);
  if (twice !== undefined) throw new InvariantError('delivered once', `rank ${rank} delivered ${twice} twice`);
  if (ids.length !== expected) throw new LivenessError(`rank ${rank} delivered ${ids.length} of ${expected} messages`);
}

export const causalBroadcastTarget = otherPort<CausalResult>({
  name: 'causal-broadcast',
  horizonMs: 20,
  // The hold-back queue orders deliveries without FIFO channels; a lost message is never resent.
  tolerates: ['reordering', 'broken-fifo', 'delay', 'pause'],
  setup(n) {
    return {
      main: (c: Communicator) => causalBroadcast(c, { count: COUNT }),
      check(r) {
        r?.results.forEach((x, rank) => {
          if (!x) return;
          const violation = causalViolation(x.delivered);
          if (violation)
            throw new InvariantError('causal order', `rank ${rank} delivered ${violation[1]} before ${violation[0]}, which it depends on`);
          checkExactlyOnce(
            rank,
            x.delivered.map((m) => m.id),
            n * COUNT,
          );
        });
      },
    };
  },
});

export const totalOrderTarget = otherPort<TotalOrderResult>({
  name: 'total-order-multicast',
  horizonMs: 20,
  // Needs reliable FIFO channels: an Ack from k proves no earlier message from k is on its way.
  tolerates: ['reordering', 'delay', 'pause'],
  setup(n) {
    return {
      main: (c: Communicator) => totalOrderMulticast(c, { count: COUNT }),
      check(r) {
        if (!r) return;
        let first: { rank: number; order: string; balance: number } | undefined;
        r.results.forEach((x, rank) => {
          if (!x) return;
          const keys = x.delivered.map((d) => `${d.ts}:${d.sender}`);
          x.delivered.forEach((d, i) => {
            const prev = x.delivered[i - 1];
            if (prev && !(prev.ts < d.ts || (prev.ts === d.ts && prev.sender < d.sender)))
              throw new InvariantError('(ts, sender) order', `rank ${rank} delivered ${keys[i - 1]} before ${keys[i]}`);
          });
          const order = keys.join(' ');
          first ??= { rank, order, balance: x.balance };
          if (order !== first.order)
            throw new InvariantError('total order', `rank ${rank} delivered ${order}, rank ${first.rank} ${first.order}`);
          if (x.balance !== first.balance)
            throw new InvariantError('replicas agree', `rank ${rank} ends with ${x.balance}, rank ${first.rank} with ${first.balance}`);
          checkExactlyOnce(rank, keys, n * COUNT);
        });
      },
    };
  },
});

export const gossipTarget = otherPort<GossipResult>({
  name: 'gossip',
  horizonMs: 20,
  // Lockstep rounds of collectives, which assume a reliable network.
  tolerates: ['reordering', 'broken-fifo', 'delay', 'pause'],
  setup(n) {
    return {
      main: (c: Communicator) => gossip(c),
      check(r) {
        if (!r) return;
        const [first] = r.results;
        r.results.forEach((x, rank) => {
          if (!x) return;
          if (JSON.stringify(x.informedPerRound) !== JSON.stringify(first?.informedPerRound))
            throw new InvariantError(
              'one count per round',
              `rank ${rank} counted ${x.informedPerRound}, rank 0 ${first?.informedPerRound}`,
            );
          if (x.learntInRound < 0) throw new LivenessError(`rank ${rank} never heard the rumour (${x.rounds} rounds)`);
          // Rounds only add informed ranks.
          const counts = x.informedPerRound;
          if (counts.some((k, i) => i > 0 && k < counts[i - 1]))
            throw new InvariantError('informed ranks only grow', `rank ${rank}: ${counts}`);
        });
        const last = first?.informedPerRound.at(-1);
        if (last !== n) throw new LivenessError(`${last} of ${n} ranks knew the rumour at the end`);
      },
    };
  },
});

const BALANCE = 100;

export const chandyLamportTarget = otherPort<SnapshotResult>({
  name: 'chandy-lamport',
  horizonMs: 30,
  // A Marker must not overtake a Transfer sent before it: reliable FIFO channels, no crash.
  tolerates: ['reordering', 'delay', 'pause'],
  setup(n) {
    // The initiator, drawn by the first rank to start (the ranks of a simulation share this closure).
    let initiator: number | undefined;
    return {
      main(c: Communicator) {
        initiator ??= Math.floor(c.random() * n);
        return chandyLamport(c, { initialBalance: BALANCE, transfers: 10, initiator });
      },
      check(r) {
        // A rank that crashed took its balance and its part of the cut with it: nothing to check.
        if (r && r.results.every((x) => x)) checkSnapshot(r.results as SnapshotResult[], BALANCE * n);
      },
    };
  },
});
