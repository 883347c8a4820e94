/**
 * Causal broadcast with vector clocks (Birman, Schiper and Stephenson; course notes C5). Each rank
 * keeps V, where V[k] counts the broadcasts from k it has delivered. Broadcasting: V[i] += 1, send
 * Msg{V} to the others, deliver it to oneself at once. Rank i delivers a Msg stamped W from j when
 * W[j] = V[j] + 1 (the next one from j) and W[k] ≤ V[k] for every k ≠ j (it has delivered everything
 * the sender had); then V[j] += 1. Otherwise the message waits in a hold-back queue. So no rank sees
 * a reply before its question, even when the network reorders, and even without FIFO channels.
 *
 * The notes' lunch: rank 0 asks "Lunch?", every other rank answers ("Yes" from odd ranks, "No" from
 * even ones) once it has delivered the question, and every rank then chats `count − 1` more lines.
 *
 * The clock here counts deliveries, not events, so it uses the vector helpers of algorithms/clocks
 * (vectorZero, compareVectors) but not VectorClock's event rules.
 */
import { defineTags, ANY_SOURCE, type Communicator } from 'dsmpi';
import { compareVectors, vectorZero, type VectorTime } from '../clocks/vector-clock.ts';
import { deferred, Net, type SentCounts } from './common.ts';

export const Tag = defineTags('causal-broadcast', ['Msg']);

export interface CausalMessage {
  /** "sender:index". */
  id: string;
  sender: number;
  text: string;
  vc: VectorTime;
}

export interface CausalOptions {
  /** Broadcasts per rank, the first being the question or its answer (default 3). */
  count?: number;
  pauseMs?: number;
  /** Default true; false delivers on arrival (to show what goes wrong). */
  holdBack?: boolean;
}

export interface CausalResult {
  rank: number;
  delivered: CausalMessage[];
  sent: SentCounts;
}

/** Whether `m` from `m.sender` can be delivered at a rank whose delivery vector is `v`. */
export function deliverable(m: CausalMessage, v: VectorTime): boolean {
  return m.vc.every((x, k) => (k === m.sender ? x === v[k] + 1 : x <= v[k]));
}

/**
 * Causal order respected: whenever one delivered message happened before another (by their stamps),
 * it was delivered first. Returns the first violation found.
 */
export function causalViolation(delivered: readonly CausalMessage[]): [string, string] | undefined {
  for (let i = 0; i < delivered.length; i++) {
    for (let j = i + 1; j < delivered.length; j++) {
      if (compareVectors(delivered[j].vc, delivered[i].vc) === 'before') return [delivered[j].id, delivered[i].id];
    }
  }
  return undefined;
}

export async function causalBroadcast(comm: Communicator, options: CausalOptions = {}): Promise<CausalResult> {
  const n = comm.size;
  const count = options.count ?? 3;
  const holdBack = options.holdBack ?? true;
  const net = new Net(comm, Tag);
  let v = vectorZero(n);
  const held: CausalMessage[] = [];
  const delivered: CausalMessage[] = [];
  let sentMine = 0;
  const asked = deferred();

  const broadcast = (text: string): void => {
    v = v.slice();
    v[comm.rank] += 1;
    const m: CausalMessage = { id: `${comm.rank}:${sentMine++}`, sender: comm.rank, text, vc: v.slice() };
    delivered.push(m);
    for (let r = 0; r < n; r++) if (r !== comm.rank) net.post(r, Tag.Msg, m);
  };
  const deliver = (m: CausalMessage): void => {
    v = v.slice();
    v[m.sender] = Math.max(v[m.sender], m.vc[m.sender]);
    delivered.push(m);
    comm.note('deliver', m.id);
    if (m.text === 'Lunch?') asked.resolve();
  };

  const chat = async (): Promise<void> => {
    if (comm.rank === 0) broadcast('Lunch?');
    else {
      await asked.promise;
      broadcast(comm.rank % 2 === 1 ? 'Yes' : 'No');
    }
    for (let i = 1; i < count; i++) {
      await comm.clock.sleep(comm.random() * (options.pauseMs ?? 2));
      broadcast(`line ${i} from ${comm.rank}`);
    }
  };

  const receive = async (): Promise<void> => {
    // Counts the others' messages only: the rank's own are delivered by chat(), which the loop
    // would not notice while it waits in recv.
    for (let got = 0; got < (n - 1) * count; got++) {
      const m = (await comm.recv<CausalMessage>(ANY_SOURCE, Tag.Msg)).data;
      if (!holdBack) {
        deliver(m);
        continue;
      }
      held.push(m);
      for (let i = 0; i < held.length;) {
        if (deliverable(held[i], v)) {
          deliver(held.splice(i, 1)[0]);
          i = 0;
        } else i++;
      }
    }
  };

  await Promise.all([chat(), n > 1 ? receive() : undefined]);
  return { rank: comm.rank, delivered, sent: net.sent };
}
