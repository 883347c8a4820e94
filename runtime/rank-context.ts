import type { Engine } from './engine.ts';
import { DsError, ErrorCode } from './errors.ts';
import type { Intercomm } from './intercomm.ts';
import { RmaEndpoint } from './one-sided/rma.ts';
import type { MembershipService, SpawnService } from './services.ts';

export type { MembershipOutcome, MembershipService, SpawnInfo, SpawnOptions, SpawnService } from './services.ts';

/**
 * What one rank's features share: its engine and the services of whatever started it. One per rank,
 * built by run(), runLocal() and simulate() (startRank); handed to every communicator of the rank.
 */

/** Something that fails its operations in progress when a member of `group` is lost (collectives). */
export interface MemberLossListener {
  readonly group: readonly number[];
  memberLost(local: number, reason: string): void;
}

export interface RankServices {
  spawn?: SpawnService;
  membership?: MembershipService;
}

export class RankContext {
  readonly engine: Engine;
  readonly membership: MembershipService | undefined;
  /** For a spawned rank, the intercomm to its parent (set once at its start). */
  parent: Intercomm | undefined;
  private readonly spawnService: SpawnService | undefined;
  private rmaEndpoint: RmaEndpoint | undefined;
  private lossListeners: Set<MemberLossListener> | undefined;

  constructor(engine: Engine, services: RankServices = {}) {
    this.engine = engine;
    this.spawnService = services.spawn;
    this.membership = services.membership;
  }

  /** The spawn service; throws DS_ERR_INVALID_ARGUMENT where ranks cannot be started (runLocal). */
  spawner(what: string): SpawnService {
    if (!this.spawnService) {
      throw new DsError(
        ErrorCode.InvalidArgument,
        `${what}(): needs dsrun or simulate(), which can start and end ranks; not available in runLocal`,
      );
    }
    return this.spawnService;
  }

  /** The wire side of this rank's one-sided operations, made on first use. */
  get rma(): RmaEndpoint {
    return (this.rmaEndpoint ??= new RmaEndpoint(this.engine));
  }

  /** Calls `listener.memberLost` when a member of its group is lost, until removed. */
  addLossListener(listener: MemberLossListener): void {
    if (!this.lossListeners) {
      const listeners = new Set<MemberLossListener>();
      this.lossListeners = listeners;
      this.engine.onPeerLost((world, reason) => {
        for (const l of listeners) {
          const local = l.group.indexOf(world);
          if (local >= 0) l.memberLost(local, reason);
        }
      });
    }
    this.lossListeners.add(listener);
  }

  removeLossListener(listener: MemberLossListener): void {
    this.lossListeners?.delete(listener);
  }
}
