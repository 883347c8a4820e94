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
   * `context` is a context id free on all of them.
   */
  shrink(key: string, members: readonly number[], nextContext: number): Promise<{ alive: number[]; context: number }>;
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
 * call is either in the result (it then fails like any dead member) or not. Needs dsrun: in
 * runLocal and simulate() it throws DS_ERR_INVALID_ARGUMENT.
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
      'shrink(): needs dsrun (its coordinator agrees on the survivors); not available in runLocal or simulate',
    );
  }
  const key = `${comm.context}:${n}`;
  const { alive, context } = await service.shrink(key, comm.group, engine.nextContextId);
  if (!alive.includes(engine.rank)) {
    throw new DsError(ErrorCode.PeerLost, `shrink(): this rank was declared lost before it took part`);
  }
  return new Communicator(engine, context, alive);
}

function evenAtLeast(n: number): number {
  return n % 2 === 0 ? n : n + 1;
}
