/**
 * Ricart and Agrawala's mutual exclusion (1981): to enter, ask every other rank with a Lamport
 * timestamp and wait for all N−1 of them to say OK. A rank answers at once unless it is in the
 * critical section, or wants it with an earlier (ts, rank); then it defers the OK until it leaves.
 * 2(N−1) messages per entry: N−1 Requests and N−1 Oks.
 */
import { defineTags, type Communicator } from 'dsmpi';
import type { MutexOptions, MutexResult } from './common.ts';
import { precedes, runMutexMachine, type MutexInput, type MutexMachine, type Out } from './mutex-driver.ts';

export const Tag = defineTags('ricart-agrawala', ['Request', 'Ok', 'Finished']);

export interface RaState {
  rank: number;
  size: number;
  /** Lamport clock. */
  clock: number;
  state: 'released' | 'wanted' | 'held';
  /** Stamp of this rank's current request. */
  myTs: number;
  oks: number[];
  deferred: number[];
}

export function initialRa(rank: number, size: number): RaState {
  return { rank, size, clock: 0, state: 'released', myTs: 0, oks: [], deferred: [] };
}

export function stepRa(s: RaState, input: MutexInput): [RaState, Out[]] {
  const out: Out[] = [];
  if (input.type === 'want') {
    s.clock += 1;
    s.myTs = s.clock;
    s.state = 'wanted';
    s.oks = [];
    for (let r = 0; r < s.size; r++) if (r !== s.rank) out.push({ to: r, tag: Tag.Request, data: { ts: s.myTs } });
    if (s.size === 1) s.state = 'held';
  } else if (input.type === 'exit') {
    s.state = 'released';
    for (const r of s.deferred) out.push({ to: r, tag: Tag.Ok, data: null });
    s.deferred = [];
  } else if (input.tag === Tag.Request) {
    const { ts } = input.data as { ts: number };
    s.clock = Math.max(s.clock, ts) + 1;
    const mineFirst = s.state === 'held' || (s.state === 'wanted' && precedes([s.myTs, s.rank], [ts, input.source]));
    if (mineFirst) s.deferred.push(input.source);
    else out.push({ to: input.source, tag: Tag.Ok, data: null });
  } else if (input.tag === Tag.Ok) {
    s.oks.push(input.source);
    if (s.state === 'wanted' && s.oks.length === s.size - 1) s.state = 'held';
  }
  return [s, out];
}

export const raMachine: MutexMachine<RaState> = { step: stepRa, held: (s) => s.state === 'held' };

/** Messages per entry the algorithm promises: 2(N−1). */
export function raMessagesPerEntry(n: number): number {
  return 2 * (n - 1);
}

export async function ricartAgrawala(comm: Communicator, options: MutexOptions = {}): Promise<MutexResult> {
  const r = await runMutexMachine(comm, Tag, Tag.Finished, raMachine, initialRa(comm.rank, comm.size), options);
  return { rank: r.rank, intervals: r.intervals, sent: r.sent };
}
