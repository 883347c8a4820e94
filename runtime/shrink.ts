import type { CommScope, NewGroup } from './comm-scope.ts';
import { DsError, ErrorCode } from './errors.ts';
import { evenAtLeast } from './split.ts';

/**
 * Collective over the survivors of `comm` (ULFM's MPIX_Comm_shrink, kept small): a new communicator
 * of the members that are still alive, in their old order. Every live member must call it (the same
 * number of times on the same communicator); dead members are left out whatever each rank knew of
 * them, because the coordinator decides the membership once for all. A member that dies during the
 * call is either in the result (it then fails like any dead member) or not. Works on a revoked
 * communicator. Needs dsrun or simulate(): in runLocal it throws DS_ERR_INVALID_ARGUMENT.
 */
export async function shrink<C>(comm: CommScope, make: (g: NewGroup) => C): Promise<C> {
  const engine = comm.engine;
  const n = comm.shrinks++;
  const service = comm.rankContext.membership;
  if (!service) {
    if (comm.size === 1) return make({ context: evenAtLeast(engine.nextContextId), group: comm.group });
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
  return make({ context, group: alive });
}

/**
 * Fault-tolerant agreement (ULFM's MPIX_Comm_agree): every live member calls it with a flag, and each
 * gets the same answer, the AND of the flags of the members that took part; members that died are
 * left out. Works on a revoked communicator, so survivors can decide together whether to go on.
 * Needs dsrun or simulate(); in runLocal it throws DS_ERR_INVALID_ARGUMENT (unless size is 1).
 */
export async function agree(comm: CommScope, flag: boolean): Promise<boolean> {
  if (typeof flag !== 'boolean') throw new DsError(ErrorCode.InvalidArgument, `agree(${String(flag)}): the flag must be a boolean`);
  const n = comm.shrinks++;
  const service = comm.rankContext.membership;
  if (!service) {
    if (comm.size === 1) return flag;
    throw new DsError(ErrorCode.InvalidArgument, 'agree(): needs dsrun or simulate() (a referee decides); not available in runLocal');
  }
  const outcome = await service.shrink(`agree:${comm.context}:${n}`, comm.group, comm.engine.nextContextId, flag);
  return outcome.flag ?? flag;
}
