import type { Engine } from './engine.ts';
import { DsError, ErrorCode } from './errors.ts';
import type { SpawnService } from './rank-context.ts';
import type { CoordinatorToRank, RankToCoordinator } from './protocol/rendezvous.ts';

/**
 * The dsrun side of dynamic processes (runtime/spawn.ts): spawn asks the launcher's coordinator,
 * which starts the processes and answers with their world ranks; retire closes this rank's links
 * (so every peer has read what it sent), then tells the coordinator, which tells everyone.
 */
export function dsrunSpawnService(
  engine: Engine,
  send: (msg: RankToCoordinator) => Promise<void>,
  /** Ends this process once the coordinator has been told (flush traces, exit 0). */
  leave: () => Promise<void>,
): { service: SpawnService; onMessage(msg: CoordinatorToRank): void } {
  let nextId = 1;
  const waiters = new Map<number, { resolve(ranks: number[]): void; reject(err: Error): void }>();
  return {
    service: {
      spawn: (n, context, options) =>
        new Promise((resolve, reject) => {
          const id = nextId++;
          waiters.set(id, { resolve, reject });
          void send({
            t: 'spawn',
            id,
            n,
            context,
            program: options.program,
            args: options.args,
          });
        }),
      retire: async () => {
        await engine.shutdown();
        await send({ t: 'retire' });
        await leave();
      },
    },
    onMessage(msg) {
      if (msg.t === 'retired') engine.peerRetired(msg.rank);
      if (msg.t !== 'spawned') return;
      const w = waiters.get(msg.id);
      waiters.delete(msg.id);
      if (!w) return;
      if (msg.ranks) w.resolve(msg.ranks);
      else w.reject(new DsError(ErrorCode.InvalidArgument, `spawn(): ${msg.error ?? 'the launcher could not start the ranks'}`));
    },
  };
}
