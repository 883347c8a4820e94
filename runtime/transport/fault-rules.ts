import { Kind } from '../wire.ts';

/**
 * The fault rules that dsrun's fault wrapper (faulty.ts) and the in-process network under the
 * simulator (in-process-network.ts) share, so a fault means the same under both; and the latency
 * draws of that network.
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

/** A message latency: uniform between minMs and maxMs, or exponential with mean meanMs (capped at maxMs if given). */
export type DelaySpec = { minMs: number; maxMs: number } | { meanMs: number; maxMs?: number };

export const msToUs = (ms: number): number => Math.round(ms * 1000);

const DEFAULT_DELAY: DelaySpec = { minMs: 0.1, maxMs: 1 };

/** The least and the greatest latency `delay` can draw (no greatest for an uncapped exponential). */
export function latencyRangeUs(delay: DelaySpec | undefined): { leastUs: number; greatestUs: number | undefined } {
  const d = delay ?? DEFAULT_DELAY;
  if ('meanMs' in d) return { leastUs: 0, greatestUs: d.maxMs === undefined ? undefined : msToUs(d.maxMs) };
  return { leastUs: msToUs(d.minMs), greatestUs: msToUs(d.maxMs) };
}

/** Draws one message latency in whole microseconds (default uniform 0.1..1 ms). */
export function drawLatencyUs(delay: DelaySpec | undefined, random: () => number): number {
  const d = delay ?? DEFAULT_DELAY;
  if ('meanMs' in d) {
    const x = -Math.log(1 - random()) * d.meanMs;
    return msToUs(d.maxMs === undefined ? x : Math.min(x, d.maxMs));
  }
  const lo = msToUs(d.minMs);
  return lo + Math.floor(random() * (msToUs(d.maxMs) - lo + 1));
}
