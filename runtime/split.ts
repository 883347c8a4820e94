import { allgatherAlgo, allreduceAlgo, freeCollectives, type CollectiveState } from './collectives.ts';
import type { NewGroup } from './comm-scope.ts';
import { UNDEFINED } from './constants.ts';
import { DsError, ErrorCode } from './errors.ts';
import type { PointToPoint } from './point-to-point.ts';
import type { Request } from './request.ts';

/**
 * Creating and freeing communicators. A new communicator needs a context id that no member uses
 * yet: members agree on the largest of their `engine.nextContextId`, rounded up to even (even ids
 * are point-to-point, the odd id after is the collective context). A member that has already
 * created it may send on it before a slower member has: the engine keeps such early messages.
 * These functions agree on the new communicator's context and members; `make` (from the
 * Communicator facade) builds it.
 * Create communicators one at a time on a rank (not two splits of different communicators at
 * once), or two creations could agree on the same id.
 */

export function evenAtLeast(n: number): number {
  return n % 2 === 0 ? n : n + 1;
}

/**
 * Collective: partitions `comm` by `color`; in each part, ranks are ordered by `key`, then by rank
 * in `comm` (MPI_Comm_split). A rank passing UNDEFINED gets undefined.
 */
export function split<C>(collective: CollectiveState, color: number, key: number, make: (g: NewGroup) => C): Request<C | undefined> {
  const what = `split(color=${color === UNDEFINED ? 'UNDEFINED' : color}, key=${key})`;
  if (!(color === UNDEFINED || (Number.isInteger(color) && color >= 0))) {
    throw new DsError(ErrorCode.InvalidArgument, `${what}: color must be an integer >= 0 or UNDEFINED`);
  }
  if (!Number.isInteger(key)) throw new DsError(ErrorCode.InvalidArgument, `${what}: key must be an integer`);
  const { engine, group } = collective.scope;
  return collective.start(what, async (op) => {
    const table = (await allgatherAlgo(op, [color, key, engine.nextContextId])) as Array<[number, number, number]>;
    const context = evenAtLeast(Math.max(...table.map((e) => e[2])));
    if (color === UNDEFINED) return undefined;
    const members = table
      .map(([c, k], rank) => ({ c, k, rank }))
      .filter((m) => m.c === color)
      .sort((a, b) => a.k - b.k || a.rank - b.rank);
    return make({ context, group: members.map((m) => group[m.rank]) });
  });
}

/** Collective: a communicator of the same ranks with new contexts (MPI_Comm_dup). */
export function dup<C>(collective: CollectiveState, make: (g: NewGroup) => C): Request<C> {
  const { engine, group } = collective.scope;
  return collective.start('dup()', async (op) => {
    const context = evenAtLeast((await allreduceAlgo(op, engine.nextContextId, 'max')) as number);
    return make({ context, group });
  });
}

/**
 * Frees the communicator on this rank (MPI_Comm_free): its pending receives and collectives reject
 * with DS_ERR_CLOSED, later collectives throw DS_ERR_CLOSED. Every rank should free it after its
 * last operation on it has completed; a message that arrives for a freed communicator is a protocol
 * error.
 */
export function free(collective: CollectiveState, p2p: PointToPoint): void {
  freeCollectives(collective);
  p2p.close();
}
