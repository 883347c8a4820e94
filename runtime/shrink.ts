import { Communicator } from './communicator.ts';
import type { Engine } from './engine.ts';
import { DsError, ErrorCode } from './errors.ts';

/**
 * Who decides a shrink's membership. Under dsrun it is the launcher's coordinator, which is also the
 * failure detector: every rank's view of who is dead comes from it, so it is the natural referee.
 */
export interface MembershipService {
  /**
   * Resolves when every member of `members` (world ranks) has either called this with the same `key`,
   * or is dead, or has finished its program: `alive` lists those that called, in `members` order;
   * `context` is a context id free on all of them; `flag` is the AND of the callers' flags.
   */
  shrink(key: string, members: readonly number[], nextContext: number, flag?: boolean): Promise<MembershipOutcome>;
}

export interface MembershipOutcome {
  alive: number[];
  context: number;
  flag?: boolean;
}

const services = new WeakMap<Engine, MembershipService>();
const calls = new WeakMap<Communicator, number>();

/** @internal run() registers the coordinator as the engine's membership service. */
export function setMembershipService(engine: Engine, service: MembershipService): void {
  services.set(engine, service);
}

/**
 * Collective over the survivors of `comm` (ULFM's MPIX_Comm_shrink, kept small): a new communicator
 * of the members that are still alive, in their old order. Every live member must call it (the same
 * number of times on the same communicator); dead members are left out whatever each rank knew of
 * them, because the coordinator decides the membership once for all. A member that dies during the
 * call is either in the result (it then fails like any dead member) or not. Works on a revoked
 * communicator. Needs dsrun or simulate(): in runLocal it throws DS_ERR_INVALID_ARGUMENT.
 */
export async function shrink(comm: Communicator): Promise<Communicator> {
  const engine = comm.engine;
  const n = calls.get(comm) ?? 0;
  calls.set(comm, n + 1);
  const service = services.get(engine);
  if (!service) {
    if (comm.size === 1) return new Communicator(engine, evenAtLeast(engine.nextContextId), comm.group);
    throw new DsError(
      ErrorCode.InvalidArgument,
      'shrink(): needs dsrun or simulate() (a referee decides on the survivors); not available in runLocal',
    );
  }
  const key = `shrink:${comm.context}:${n}`;
  const { alive, context } = await service.shrink(key, comm.group, engine.nextContextId);
  if (!alive.includes(engine.rank)) {
    throw new DsError(ErrorCode.PeerLost, `shrink(): this rank was declared lost before it took part`);
  }
  return new Communicator(engine, context, alive);
}

/**
 * Fault-tolerant agreement (ULFM's MPIX_Comm_agree): every live member calls it with a flag, and each
 * gets the same answer, the AND of the flags of the members that took part; members that died are
 * left out. Works on a revoked communicator, so survivors can decide together whether to go on.
 * Needs dsrun or simulate(); in runLocal it throws DS_ERR_INVALID_ARGUMENT (unless size is 1).
 */
export async function agree(comm: Communicator, flag: boolean): Promise<boolean> {
  if (typeof flag !== 'boolean') throw new DsError(ErrorCode.InvalidArgument, `agree(${String(flag)}): the flag must be a boolean`);
  const engine = comm.engine;
  const n = calls.get(comm) ?? 0;
  calls.set(comm, n + 1);
  const service = services.get(engine);
  if (!service) {
    if (comm.size === 1) return flag;
    throw new DsError(ErrorCode.InvalidArgument, 'agree(): needs dsrun or simulate() (a referee decides); not available in runLocal');
  }
  const outcome = await service.shrink(`agree:${comm.context}:${n}`, comm.group, engine.nextContextId, flag);
  return outcome.flag ?? flag;
}

function evenAtLeast(n: number): number {
  return n % 2 === 0 ? n : n + 1;
}
