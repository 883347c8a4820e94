import { ANY_SOURCE, ANY_TAG, PROC_NULL, TAG_UB } from './constants.ts';
import { Communicator, type RecvOptions } from './communicator.ts';
import type { Engine } from './engine.ts';
import { DsError, ErrorCode } from './errors.ts';
import type { Matcher, Message, Status } from './matching.ts';
import type { Completion } from './request.ts';
import { Kind } from './wire.ts';
import type { Clock } from './clock.ts';

/**
 * Dynamic processes (MPI_Comm_spawn's idea, kept small; docs/dynamic-processes.md): a rank starts
 * new ranks and talks to them over an intercommunicator; a rank leaves the job for good with
 * retire(). Under dsrun the launcher's coordinator allocates the new world ranks and starts the
 * processes; in simulate() the simulator starts new simulated ranks.
 */

export interface SpawnOptions {
  /**
   * What the children run. dsrun: a program path (default: the job's own program, as a bundle);
   * simulate(): a key of `SimulateOptions.programs` (default: the job's own main).
   */
  program?: string;
  /** Command-line arguments of the children (dsrun; default: the job's own arguments). */
  args?: string[];
}

/** What a spawned rank is told at its start: its parent's world rank, the intercomm's context, its world. */
export interface SpawnInfo {
  parent: number;
  context: number;
  /** World ranks of the ranks spawned together: the child's `world`, in order. */
  group: number[];
}

/** Who carries out spawn and retire for an engine: dsrun's coordinator, or the simulator. */
export interface SpawnService {
  /** Starts `n` ranks whose parent intercomm uses `context`; resolves to their world ranks. */
  spawn(n: number, context: number, options: SpawnOptions): Promise<number[]>;
  /** This rank leaves the job (its transport is flushed first). Need not return. */
  retire(): Promise<void>;
}

const services = new WeakMap<Engine, SpawnService>();
const parents = new WeakMap<Engine, Intercomm>();
const NEVER = new Promise<never>(() => {});

/** @internal run() and simulate() register how ranks are spawned and retired. */
export function setSpawnService(engine: Engine, service: SpawnService): void {
  services.set(engine, service);
}

/**
 * @internal Sets up a spawned rank before it takes any message: its world (the ranks spawned with it)
 * on context 0, and its parent intercomm on the context the parent chose.
 */
export function joinAsChild(engine: Engine, info: SpawnInfo): Communicator {
  const world = new Communicator(engine, 0, info.group);
  parents.set(engine, new Intercomm(engine, info.context, [info.parent]));
  return world;
}

/** @internal the parent intercomm of a spawned rank (Communicator.parent). */
export function parentOf(engine: Engine): Intercomm | undefined {
  return parents.get(engine);
}

/** @internal Communicator.spawn: starts `n` children of this rank (not a collective). */
export async function spawnRanks(comm: Communicator, n: number, options: SpawnOptions = {}): Promise<Intercomm> {
  const engine = comm.engine;
  checkCount(n);
  const service = serviceOf(engine, 'spawn');
  let context = engine.nextContextId;
  if (context % 2 === 1) context++;
  engine.nextContextId = context + 2;
  const inter = new Intercomm(engine, context, []);
  inter.addMembers(await service.spawn(n, context, options));
  return inter;
}

/** @internal Communicator.retire: leaves the job for good; never resolves. */
export async function retireRank(engine: Engine): Promise<never> {
  const service = serviceOf(engine, 'retire');
  await service.retire();
  return NEVER;
}

function serviceOf(engine: Engine, what: string): SpawnService {
  const service = services.get(engine);
  if (!service) {
    throw new DsError(
      ErrorCode.InvalidArgument,
      `${what}(): needs dsrun or simulate(), which can start and end ranks; not available in runLocal`,
    );
  }
  return service;
}

function checkCount(n: number): void {
  if (!Number.isInteger(n) || n < 1)
    throw new DsError(ErrorCode.InvalidArgument, `spawn(${String(n)}): the number of ranks must be an integer >= 1`);
}

/**
 * An intercommunicator (point-to-point only): a link between this rank and a remote group of ranks.
 * For the parent, the remote group is its children, indexed 0..size-1 in spawn order (a later
 * `spawn` on the same intercomm appends); for a child (`world.parent`), it is the parent, index 0.
 * `source` in received messages is the remote index. No collectives.
 */
export class Intercomm {
  /** @internal */
  readonly engine: Engine;
  /** @internal context id (even); messages on it carry world ranks, mapped to remote indices here. */
  readonly context: number;
  readonly clock: Clock;
  private readonly remote: number[];
  private readonly index = new Map<number, number>();
  private readonly matcher: Matcher;

  /** @internal use Communicator.spawn() or Communicator.parent. */
  constructor(engine: Engine, context: number, remote: readonly number[]) {
    this.engine = engine;
    this.context = context;
    this.clock = engine.clock;
    this.remote = [];
    // Opened without a group: sources are world ranks, translated by this class.
    this.matcher = engine.openContext(context);
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
    this.checkRank(index, () => `worldRank(${index})`, false);
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
    checkCount(n);
    if (parents.get(this.engine) === this) {
      throw new DsError(ErrorCode.InvalidArgument, 'spawn(): only the parent side of an intercomm can add children');
    }
    const ranks = await serviceOf(this.engine, 'spawn').spawn(n, this.context, options);
    const first = this.remote.length;
    this.addMembers(ranks);
    return ranks.map((_, i) => first + i);
  }

  /** @internal */
  addMembers(worldRanks: readonly number[]): void {
    for (const w of worldRanks) {
      this.index.set(w, this.remote.length);
      this.remote.push(w);
    }
  }

  /** Sends `data` to remote member `dest`. Rejects with DS_ERR_RETIRED if it has retired. */
  send(data: unknown, dest: number, tag = 0): Promise<void> {
    const what = (): string => `intercomm send to remote rank ${dest} with tag ${tag}`;
    this.checkRank(dest, what, false);
    this.checkTag(tag, what, false);
    if (dest === PROC_NULL) return Promise.resolve();
    try {
      return this.engine.send(this.remote[dest], Kind.Message, this.context, tag, data, what) ?? Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Receives from remote member `source` (or ANY_SOURCE); the message's `source` is a remote index. */
  recv<T = unknown>(source = ANY_SOURCE, tag = ANY_TAG, options: RecvOptions = {}): Promise<Message<T>> {
    const what = `intercomm recv(source=${source === ANY_SOURCE ? 'ANY_SOURCE' : source}, tag=${tag === ANY_TAG ? 'ANY_TAG' : tag})`;
    this.checkRank(source, () => what, true);
    this.checkTag(tag, () => what, true);
    if (source === PROC_NULL)
      return Promise.resolve({
        source: PROC_NULL,
        tag: ANY_TAG,
        data: undefined as T,
      });
    const worldSource = source === ANY_SOURCE ? ANY_SOURCE : this.remote[source];
    const ready = this.matcher.take(worldSource, tag);
    if (ready) return Promise.resolve(this.translate(ready) as Message<T>);
    if (source !== ANY_SOURCE && this.engine.dead.has(worldSource)) {
      return Promise.reject(new DsError(ErrorCode.PeerLost, `${what}: remote rank ${source} is dead`));
    }
    if (source !== ANY_SOURCE && this.engine.retired.has(worldSource)) {
      return Promise.reject(new DsError(ErrorCode.Retired, `${what}: remote rank ${source} has retired`));
    }
    return new Promise((resolve, reject) => {
      const op: Completion<Message> = {
        description: what,
        startedAt: this.clock.now(),
        resolve: (m) => resolve(this.translate(m) as Message<T>),
        reject,
      };
      let clearTimer: (() => void) | undefined;
      if (options.timeoutMs !== undefined) {
        if (!(options.timeoutMs >= 0)) {
          throw new DsError(ErrorCode.InvalidArgument, `${what}: timeoutMs must be a number >= 0, got ${options.timeoutMs}`);
        }
        clearTimer = this.clock.setTimer(options.timeoutMs, () => {
          if (this.matcher.withdraw(op)) reject(new DsError(ErrorCode.Timeout, `${what} timed out after ${options.timeoutMs} ms`));
        });
      }
      this.matcher.post({ source: worldSource, tag, request: op, clearTimer });
    });
  }

  /** The status of a matching message if one is waiting (source as a remote index), else undefined. */
  iprobe(source = ANY_SOURCE, tag = ANY_TAG): Status | undefined {
    this.checkRank(source, () => `intercomm iprobe(source=${source})`, true);
    this.checkTag(tag, () => `intercomm iprobe(tag=${tag})`, true);
    const m = this.matcher.peek(source === ANY_SOURCE ? ANY_SOURCE : this.remote[source], tag);
    return m ? { source: this.index.get(m.source) ?? -1, tag: m.tag } : undefined;
  }

  private translate(m: Message): Message {
    return { source: this.index.get(m.source) ?? -1, tag: m.tag, data: m.data };
  }

  private checkRank(rank: number, what: () => string, wildcard: boolean): void {
    if (Number.isInteger(rank) && ((rank >= 0 && rank < this.size) || rank === PROC_NULL)) return;
    if (wildcard && rank === ANY_SOURCE) return;
    throw new DsError(
      ErrorCode.InvalidRank,
      `${what()}: remote rank ${String(rank)} is not valid; the remote group has ${this.size} rank(s)`,
    );
  }

  private checkTag(tag: number, what: () => string, wildcard: boolean): void {
    if (Number.isInteger(tag) && tag >= 0 && tag <= TAG_UB) return;
    if (wildcard && tag === ANY_TAG) return;
    throw new DsError(ErrorCode.InvalidArgument, `${what()}: tag ${String(tag)} is not valid; tags are integers 0..${TAG_UB}`);
  }
}
