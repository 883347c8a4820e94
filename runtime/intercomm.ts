import type { Clock } from './clock.ts';
import { ANY_SOURCE, ANY_TAG } from './constants.ts';
import type { Engine } from './engine.ts';
import { DsError, ErrorCode } from './errors.ts';
import type { Message, Status } from './matching.ts';
import { PointToPoint, type RecvOptions } from './point-to-point.ts';
import type { SpawnOptions } from './services.ts';

/** How a parent starts more children on an intercomm: resolves to their world ranks. */
export type SpawnMore = (n: number, options: SpawnOptions) => Promise<number[]>;

/**
 * An intercommunicator (point-to-point only): a link between this rank and a remote group of ranks.
 * For the parent, the remote group is its children, indexed 0..size-1 in spawn order (a later
 * `spawn` on the same intercomm appends); for a child (`world.parent`), it is the parent, index 0.
 * `source` in received messages is the remote index. No collectives. Sends and receives take the
 * communicators' own path (point-to-point.ts), with the same checks and errors.
 */
export class Intercomm {
  /** @internal */
  readonly engine: Engine;
  /** @internal context id (even); messages on it carry world ranks, mapped to remote indices here. */
  readonly context: number;
  readonly clock: Clock;
  private readonly remote: number[] = [];
  private readonly p2p: PointToPoint;
  private readonly spawnMore: SpawnMore | undefined;

  /** @internal use Communicator.spawn() or Communicator.parent; `spawnMore` is the parent side's. */
  constructor(engine: Engine, context: number, remote: readonly number[], spawnMore?: SpawnMore) {
    this.engine = engine;
    this.context = context;
    this.clock = engine.clock;
    this.spawnMore = spawnMore;
    // Opened without a group: the engine gives world ranks, translated by the point-to-point path.
    this.p2p = new PointToPoint(engine, context, { world: this.remote, byWorld: true, noun: 'remote rank', flow: false });
    this.addMembers(remote);
  }

  /** Number of ranks in the remote group (retired ones included: indices are never reused). */
  get size(): number {
    return this.remote.length;
  }

  /** This rank's own world rank: unique in the job, spawned ranks included (an id for logs). */
  get selfWorldRank(): number {
    return this.engine.rank;
  }

  /** World rank of remote member `index`. */
  worldRank(index: number): number {
    this.p2p.checkRank(index, () => `worldRank(${index})`, false);
    return this.remote[index];
  }

  /** Remote indices of members that have retired, ascending. */
  retired(): number[] {
    return this.remote.flatMap((w, i) => (this.engine.retired.has(w) ? [i] : []));
  }

  /** Remote indices of members that are dead (crashed), ascending. */
  failed(): number[] {
    return this.remote.flatMap((w, i) => (this.engine.dead.has(w) ? [i] : []));
  }

  /**
   * Parent side: starts `n` more children on this same intercomm; resolves to their new indices
   * (appended after the existing ones). They form a world of their own, like the first batch.
   */
  async spawn(n: number, options: SpawnOptions = {}): Promise<number[]> {
    checkSpawnCount(n);
    if (!this.spawnMore) {
      throw new DsError(ErrorCode.InvalidArgument, 'spawn(): only the parent side of an intercomm can add children');
    }
    const ranks = await this.spawnMore(n, options);
    const first = this.remote.length;
    this.addMembers(ranks);
    return ranks.map((_, i) => first + i);
  }

  /** @internal */
  addMembers(worldRanks: readonly number[]): void {
    const first = this.remote.length;
    this.remote.push(...worldRanks);
    this.p2p.indexMembers(first);
  }

  /** Sends `data` to remote member `dest`. Rejects with DS_ERR_RETIRED if it has retired. */
  send(data: unknown, dest: number, tag = 0): Promise<void> {
    return this.p2p.send(data, dest, tag, () => `intercomm send to remote rank ${dest} with tag ${tag}`);
  }

  /** Receives from remote member `source` (or ANY_SOURCE); the message's `source` is a remote index. */
  recv<T = unknown>(source = ANY_SOURCE, tag = ANY_TAG, options: RecvOptions = {}): Promise<Message<T>> {
    return this.p2p.recv<T>(source, tag, options, () => `intercomm recv(source=${fmt(source, ANY_SOURCE)}, tag=${fmt(tag, ANY_TAG)})`);
  }

  /** The status of a matching message if one is waiting (source as a remote index), else undefined. */
  iprobe(source = ANY_SOURCE, tag = ANY_TAG): Status | undefined {
    return this.p2p.iprobe(source, tag, `intercomm iprobe(source=${fmt(source, ANY_SOURCE)}, tag=${fmt(tag, ANY_TAG)})`);
  }
}

export function checkSpawnCount(n: number): void {
  if (!Number.isInteger(n) || n < 1)
    throw new DsError(ErrorCode.InvalidArgument, `spawn(${String(n)}): the number of ranks must be an integer >= 1`);
}

function fmt(value: number, wildcard: number): string {
  return value === wildcard ? (wildcard === ANY_SOURCE ? 'ANY_SOURCE' : 'ANY_TAG') : String(value);
}
