import type { CommScope } from './comm-scope.ts';
import { checkSpawnCount, Intercomm } from './intercomm.ts';
import type { RankContext } from './rank-context.ts';
import type { SpawnOptions } from './services.ts';

/**
 * Dynamic processes (MPI_Comm_spawn's idea, kept small; docs/dynamic-processes.md): a rank starts
 * new ranks and talks to them over an intercommunicator; a rank leaves the job for good with
 * retire(). Under dsrun the launcher's coordinator allocates the new world ranks and starts the
 * processes; in simulate() the simulator starts new simulated ranks. Either is the rank context's
 * spawn service.
 */

const NEVER = new Promise<never>(() => {});

/** @internal Communicator.spawn: starts `n` children of this rank (not a collective). */
export async function spawnRanks(comm: CommScope, n: number, options: SpawnOptions = {}): Promise<Intercomm> {
  const { engine, rankContext } = comm;
  checkSpawnCount(n);
  const service = rankContext.spawner('spawn');
  let context = engine.nextContextId;
  if (context % 2 === 1) context++;
  engine.nextContextId = context + 2;
  const inter = new Intercomm(engine, context, [], (more, opts) => rankContext.spawner('spawn').spawn(more, context, opts));
  inter.addMembers(await service.spawn(n, context, options));
  return inter;
}

/** @internal Communicator.retire: leaves the job for good; never resolves. */
export async function retireRank(rankContext: RankContext): Promise<never> {
  await rankContext.spawner('retire').retire();
  return NEVER;
}
