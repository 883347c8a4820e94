import type { Communicator } from '../communicator.ts';
import type { Engine } from '../engine.ts';
import { DsError, ErrorCode } from '../errors.ts';
import type { SpawnInfo, SpawnService } from '../rank-context.ts';
import type { TraceEvent } from '../protocol/trace-event.ts';
import type { Scheduler } from './scheduler.ts';
import type { SimNetwork } from './sim-network.ts';

/** What the simulator keeps per rank that spawning and retiring need (a view of simulate's Slot). */
export interface SpawnSlot {
  rank: number;
  inc: number;
  alive: boolean;
  done: boolean;
  engine: Engine | undefined;
  /** Set for a rank spawned during the run: its parent, intercomm context and world. */
  spawn?: SpawnInfo;
  /** The program a spawned rank runs (simulate's `programs[name]`, or the job's main). */
  main?: (comm: Communicator) => unknown;
  /** Left the job with comm.retire(). */
  retired?: boolean;
}

/** What simulate() hands to the spawn hook. */
export interface SimSpawnContext<S extends SpawnSlot> {
  slots: S[];
  network: SimNetwork;
  scheduler: Scheduler;
  record(event: TraceEvent): void;
  /** Makes the slot of a new rank (simulate's defaults) and starts it. */
  newSlot(rank: number): S;
  start(slot: S): void;
  main: (comm: Communicator) => unknown;
  programs: Record<string, (comm: Communicator) => unknown> | undefined;
}

const NEVER = new Promise<never>(() => {});

/**
 * The simulator's side of dynamic processes (runtime/spawn.ts) for incarnation `alive` of `slot`:
 * spawn adds ranks (new slots, started at once, in the same virtual instant); retire takes the rank
 * out, and each other rank is told after the messages the retiring rank had sent it have arrived.
 */
export function simSpawnService<S extends SpawnSlot>(ctx: SimSpawnContext<S>, slot: S, alive: () => boolean): SpawnService {
  return {
    spawn: async (count, context, options) => {
      if (!alive()) return NEVER;
      const program = options.program === undefined ? ctx.main : ctx.programs?.[options.program];
      if (!program) {
        throw new DsError(ErrorCode.InvalidArgument, `spawn(): simulate() has no program '${options.program}' in options.programs`);
      }
      const first = ctx.slots.length;
      const group = Array.from({ length: count }, (_, i) => first + i);
      ctx.network.grow(first + count);
      for (const rank of group) {
        const child = ctx.newSlot(rank);
        child.spawn = { parent: slot.rank, context, group };
        child.main = program;
        ctx.slots.push(child);
      }
      for (const rank of group) ctx.start(ctx.slots[rank]);
      return group;
    },
    retire: async () => {
      if (!alive()) return;
      slot.alive = false;
      slot.retired = true;
      slot.done = true;
      const rank = slot.rank;
      ctx.record({
        t: ctx.scheduler.nowMs,
        ev: 'exit',
        rank,
        lamport: ctx.network.lamport[rank],
        reason: 'retired',
      });
      for (const peer of ctx.slots) {
        if (peer.rank === rank) continue;
        const inc = peer.inc;
        ctx.network.afterInFlight(rank, peer.rank, 0, () => {
          if (peer.alive && peer.inc === inc) peer.engine?.peerRetired(rank);
        });
      }
    },
  };
}
