import type { CommScope, NewGroup } from './comm-scope.ts';
import { DsError, ErrorCode } from './errors.ts';
import { evenAtLeast } from './split.ts';

/**
 * Collective over the survivors of `comm` (ULFM's MPIX_Comm_shrink, kept small): a new communicator
 * of the members that are still alive, in their old order. Every live member must call it (the same
 * number of times on the same communicator); dead members are left out whatever each rank knew of
 * them, because the coordinator decides the membership once for all. A member that dies during the
 * call is either in the result (it then fails like any dead member) or not. Needs dsrun: in
 * runLocal and simulate() it throws DS_ERR_INVALID_ARGUMENT.
 */
export async function shrink<C>(comm: CommScope, make: (g: NewGroup) => C): Promise<C> {
  const engine = comm.engine;
  const n = comm.shrinks++;
  const service = comm.rankContext.membership;
  if (!service) {
    if (comm.size === 1) return make({ context: evenAtLeast(engine.nextContextId), group: comm.group });
    throw new DsError(
      ErrorCode.InvalidArgument,
      'shrink(): needs dsrun (its coordinator agrees on the survivors); not available in runLocal or simulate',
    );
  }
  const key = `${comm.context}:${n}`;
  const { alive, context } = await service.shrink(key, comm.group, engine.nextContextId);
  if (!alive.includes(engine.rank)) {
    throw new DsError(ErrorCode.PeerLost, `shrink(): this rank was declared lost before it took part`);
  }
  return make({ context, group: alive });
}
