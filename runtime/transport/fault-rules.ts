import { Kind } from '../wire.ts';

/**
 * The fault rules that dsrun's fault wrapper (faulty.ts) and the simulator's network
 * (sim/sim-network.ts) share, so a fault means the same under both.
 */

/**
 * Whether a message of `kind` is one of flow control's own (a credit, a clear to send, a chunk of a
 * held message): fault layers never lose, duplicate or reorder them, as if they had a reliable
 * channel of their own (docs/flow-control.md).
 */
export function spared(kind: number | undefined): boolean {
  return kind === Kind.Credit || kind === Kind.Cts || kind === Kind.Chunk;
}

/** A cut between two groups of ranks: both ways, or only `from` → `to` when `oneWay`. */
export interface Cut {
  from: number[];
  to: number[];
  oneWay?: boolean;
}

/** Whether one of `cuts` (those in force now) stops a message from rank `from` to rank `to`. */
export function isCut(cuts: Iterable<Cut>, from: number, to: number): boolean {
  for (const c of cuts) {
    if (c.from.includes(from) && c.to.includes(to)) return true;
    if (!c.oneWay && c.to.includes(from) && c.from.includes(to)) return true;
  }
  return false;
}
