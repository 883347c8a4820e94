/**
 * The distributed hashmap (book 5.2 and 8.4.2; the lamport1-majority-voting8 program done right):
 * every rank holds a replica of an LWW map. A put or delete is stamped (Lamport time, rank): ties of
 * Lamport time are broken by rank, so every replica picks the same winner. Replicas exchange whole
 * states by anti-entropy (./anti-entropy.ts); each merge advances the replica's Lamport clock past
 * every stamp it has seen (max, then tick), so a later write by any rank beats what it has seen.
 * Every replica applies every update and all converge to the same map, whatever values the ranks
 * proposed and however the network reorders, loses or duplicates messages.
 *
 * An optional majority read asks every replica for its entry and returns, from the first
 * ⌊n/2⌋+1 replies (its own included), the entry with the highest stamp.
 *
 * Messages: Gossip (anti-entropy), ReadRequest { id, key }, ReadReply { id, key, entry | null }.
 */
import { ANY_SOURCE, type Communicator, type Request, type Message } from 'dsmpi';
import { LamportClock } from '../clocks/lamport-clock.ts';
import { recvWithin } from '../common/recv-within.ts';
import { gossipUntilConverged, type GossipOptions, type GossipResult, type StateCrdt } from './anti-entropy.ts';
import {
  compareStamps,
  lwwCanonical,
  lwwDelete,
  lwwEmpty,
  lwwGet,
  lwwMaxTs,
  lwwMerge,
  lwwPut,
  lwwVisible,
  type LwwEntry,
  type LwwMap,
  type Stamp,
} from './lww-map.ts';
import { Tag } from './tags.ts';

export function lwwCrdt<V>(): StateCrdt<LwwMap<V>> {
  return { merge: lwwMerge, canonical: lwwCanonical };
}

export class ReplicatedMap<V> {
  state: LwwMap<V> = lwwEmpty<V>();
  readonly clock = new LamportClock();
  /** Majority reads started from this replica (their request ids), kept here so a run replays alike in any process. */
  private reads = 0;

  constructor(readonly rank: number) {}

  /** A request id unique to this replica's next majority read. */
  nextReadId(): number {
    return this.rank * 1_000_000 + ++this.reads;
  }

  /** Writes `value` at `key` with a fresh stamp; returns the stamp. */
  put(key: string, value: V): Stamp {
    const stamp = { ts: this.clock.tick(), node: this.rank };
    this.state = lwwPut(this.state, key, value, stamp);
    return stamp;
  }

  /** Deletes `key` (a tombstone with a fresh stamp); returns the stamp. */
  delete(key: string): Stamp {
    const stamp = { ts: this.clock.tick(), node: this.rank };
    this.state = lwwDelete(this.state, key, stamp);
    return stamp;
  }

  get(key: string): V | undefined {
    return lwwGet(this.state, key);
  }

  entry(key: string): LwwEntry<V> | undefined {
    return this.state[key];
  }

  visible(): Record<string, V> {
    return lwwVisible(this.state);
  }

  /** Merges a remote state in: a receive event for the Lamport clock. */
  merge(remote: LwwMap<V>): void {
    this.state = lwwMerge(this.state, remote);
    this.clock.receive(lwwMaxTs(remote));
  }

  /** Anti-entropy with every other replica until this replica knows it holds the final map. */
  async sync(comm: Communicator, options: GossipOptions = {}): Promise<GossipResult<LwwMap<V>>> {
    const result = await gossipUntilConverged(comm, lwwCrdt<V>(), this.state, options);
    this.merge(result.state);
    return result;
  }
}

interface ReadRequest {
  id: number;
  key: string;
}
interface ReadReply<V> {
  id: number;
  key: string;
  entry: LwwEntry<V> | null;
}

/**
 * Answers other ranks' majority reads from `replica` until stopped. Runs beside the rank's own work
 * (it only takes ReadRequest messages).
 */
export function serveReads<V>(comm: Communicator, replica: ReplicatedMap<V>): { stop(): void; done: Promise<void> } {
  let stopped = false;
  let pending: Request<Message<ReadRequest>> | undefined;
  const done = (async () => {
    while (!stopped) {
      pending = comm.irecv<ReadRequest>(ANY_SOURCE, Tag.ReadRequest);
      let req: Message<ReadRequest>;
      try {
        req = await pending;
      } catch (err) {
        if (stopped) return;
        throw err;
      }
      const reply: ReadReply<V> = { id: req.data.id, key: req.data.key, entry: replica.entry(req.data.key) ?? null };
      await comm.send(reply, req.source, Tag.ReadReply).catch(() => undefined);
    }
  })();
  return {
    stop() {
      stopped = true;
      pending?.cancel();
    },
    done,
  };
}

export interface MajorityReadOptions {
  /** Resend the request to replicas that have not answered after this long (default 50 ms). */
  retryMs?: number;
  /** Give up after this long (default 5000 ms). */
  timeoutMs?: number;
  /** Distinguishes this read's replies from earlier reads' (default: a fresh number per call). */
  id?: number;
}

export interface MajorityReadResult<V> {
  /** The highest-stamped entry among the replies (a tombstone means deleted), if any replica had one. */
  entry: LwwEntry<V> | undefined;
  /** The value (undefined if absent or deleted). */
  value: V | undefined;
  /** How many replicas answered (this one included). */
  replies: number;
  /** True if a majority answered in time. */
  quorum: boolean;
}

/** ⌊n/2⌋ + 1. */
export function majority(n: number): number {
  return Math.floor(n / 2) + 1;
}

/** Reads `key` from a majority of replicas (this one counts) and returns the highest stamp. */
export async function majorityRead<V>(
  comm: Communicator,
  replica: ReplicatedMap<V>,
  key: string,
  options: MajorityReadOptions = {},
): Promise<MajorityReadResult<V>> {
  const retryMs = options.retryMs ?? 50;
  const timeoutMs = options.timeoutMs ?? 5000;
  const id = options.id ?? replica.nextReadId();
  const need = majority(comm.size);
  const answered = new Set<number>([comm.rank]);
  let best: LwwEntry<V> | undefined = replica.entry(key);
  const deadline = comm.clock.now() + timeoutMs;
  const peers = Array.from({ length: comm.size }, (_, i) => i).filter((p) => p !== comm.rank);
  while (answered.size < need && comm.clock.now() < deadline) {
    const ask = peers.filter((p) => !answered.has(p) && !comm.failed().includes(p));
    await Promise.allSettled(ask.map((p) => comm.send({ id, key } satisfies ReadRequest, p, Tag.ReadRequest)));
    const until = Math.min(deadline, comm.clock.now() + retryMs);
    while (answered.size < need) {
      const m = await recvWithin<ReadReply<V>>(comm, until - comm.clock.now(), Tag.ReadReply);
      if (!m) break;
      if (m.data.id !== id || answered.has(m.source)) continue; // a stale or duplicated reply
      answered.add(m.source);
      const e = m.data.entry;
      if (e && (!best || compareStamps(e, best) > 0)) best = e;
    }
  }
  return {
    entry: best,
    value: best && !best.tomb ? (best.value as V) : undefined,
    replies: answered.size,
    quorum: answered.size >= need,
  };
}
