/**
 * Anti-entropy for state-based CRDTs: every round each replica pushes its whole state to every peer
 * and merges what it receives. Lost, duplicated or reordered messages do no harm (merge is
 * idempotent, commutative, associative) and a lost push is simply repeated next round, so replicas
 * converge once the network lets messages through again (after a partition heals).
 *
 * Knowing when to stop. Each replica's state always contains its own updates, made before the
 * gossip starts. A replica whose state X equals, after merging, the state every peer last pushed to
 * it knows that every replica once held X, so X contains every update: X is the final state. It
 * then keeps pushing X flagged `final` until every peer has told it `final` too (plus `lingerRounds`
 * more rounds, as the peers may have missed its own final pushes), or until no peer that is not
 * final has pushed to it for `maxLingerRounds` (such a peer is still gossiping without the final
 * state: a one-way cut may keep ours from it, so this replica stays until it gets through). A replica that receives a final state holds the final state after merging it,
 * and knows it too. A replica that never learns this within `maxRounds` returns `converged: false`.
 *
 * Message: Gossip { epoch, state, final }. Epochs separate successive gossip phases of one program
 * (a state from a later epoch ends this one: its sender had already finished it).
 */
import type { Communicator } from 'dsmpi';
import { recvWithin } from '../common/recv-within.ts';
import { Tag } from './tags.ts';

/** What anti-entropy needs of a state-based CRDT. */
export interface StateCrdt<S> {
  merge(a: S, b: S): S;
  /** Equal texts if and only if equal states. */
  canonical(s: S): string;
}

export interface GossipOptions {
  /** Time between pushes (default 20 ms). */
  intervalMs?: number;
  /** Rounds a final replica keeps pushing once every peer is known final (default 2). */
  lingerRounds?: number;
  /** A final replica stops pushing once no peer short of final has pushed to it for this many rounds (default 100). */
  maxLingerRounds?: number;
  /** Gives up after this many rounds (default 500). */
  maxRounds?: number;
  /** Which gossip phase of the program this is (default 0). */
  epoch?: number;
  tag?: number;
}

export interface GossipResult<S> {
  state: S;
  /** True when this replica knows its state is the final one. */
  converged: boolean;
  rounds: number;
}

interface GossipMessage<S> {
  epoch: number;
  state: S;
  final: boolean;
}

export async function gossipUntilConverged<S>(
  comm: Communicator,
  crdt: StateCrdt<S>,
  initial: S,
  options: GossipOptions = {},
): Promise<GossipResult<S>> {
  const intervalMs = options.intervalMs ?? 20;
  const lingerRounds = options.lingerRounds ?? 2;
  const maxLingerRounds = options.maxLingerRounds ?? 100;
  const maxRounds = options.maxRounds ?? 500;
  const epoch = options.epoch ?? 0;
  const tag = options.tag ?? Tag.Gossip;
  const peers = Array.from({ length: comm.size }, (_, i) => i).filter((p) => p !== comm.rank);

  if (peers.length === 0) return { state: initial, converged: true, rounds: 0 };
  let state = initial;
  let mine = crdt.canonical(state);
  const heard = new Map<number, string>(); // peer -> the state it last pushed, if it equalled ours after the merge
  const peerFinal = new Set<number>();
  let final = peers.length === 0;
  let lingered = 0;
  let afterAllFinal = 0;
  let overtaken = false;

  const learn = (): void => {
    if (!final && peers.every((p) => heard.get(p) === mine)) final = true;
  };

  let round = 0;
  while (round < maxRounds) {
    round++;
    if (final && peers.every((p) => peerFinal.has(p))) afterAllFinal++;
    if (final && (afterAllFinal > lingerRounds || lingered >= maxLingerRounds)) break;
    if (final) lingered++;
    const msg: GossipMessage<S> = { epoch, state, final };
    await Promise.allSettled(peers.map((p) => comm.send(msg, p, tag)));
    const roundEnd = comm.clock.now() + intervalMs;
    for (;;) {
      const got = await recvWithin<GossipMessage<S>>(comm, roundEnd - comm.clock.now(), tag);
      if (!got) break;
      const m = got.data;
      const from = got.source;
      state = crdt.merge(state, m.state);
      mine = crdt.canonical(state);
      if (m.epoch > epoch) {
        overtaken = true; // its sender finished this epoch: what it sent contains the final state
        break;
      }
      if (m.epoch < epoch) continue;
      if (crdt.canonical(m.state) === mine) heard.set(from, mine);
      // A peer still pushing unfinished states has not heard ours: linger on until it has.
      if (!m.final && !peerFinal.has(from)) lingered = 0;
      if (m.final) {
        if (!final) comm.note('final state', mine);
        peerFinal.add(from);
        final = true; // we hold the final state now (a final state merged into ours)
      }
      learn();
    }
    if (overtaken) return { state, converged: true, rounds: round };
  }
  return { state, converged: final, rounds: round };
}
