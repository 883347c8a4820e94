import { Communicator } from './communicator.ts';
import type { Engine } from './engine.ts';
import { Intercomm } from './intercomm.ts';
import { RankContext, type RankServices, type SpawnInfo } from './rank-context.ts';

/**
 * Sets up one rank on its engine, the same way under run(), runLocal() and simulate(): its rank
 * context (with the services of whatever started it) and its world communicator on context 0. A
 * spawned rank's world is the ranks spawned with it, and its parent intercomm uses the context the
 * parent chose; both exist before the rank takes any message. `world`: the ranks started with the
 * job (the simulator's world stays its first ranks when ranks are spawned and one restarts).
 */
export function startRank(
  engine: Engine,
  services: RankServices,
  spawned?: SpawnInfo,
  world: readonly number[] = worldOf(engine.size),
): Communicator {
  const rankContext = new RankContext(engine, services);
  if (!spawned) return new Communicator(rankContext, 0, world);
  const children = new Communicator(rankContext, 0, spawned.group);
  rankContext.parent = new Intercomm(engine, spawned.context, [spawned.parent]);
  return children;
}

/** World ranks 0..size-1. */
export function worldOf(size: number): number[] {
  return Array.from({ length: size }, (_, i) => i);
}
