/**
 * The loop that runs a peer-to-peer mutual-exclusion role written as a pure state machine
 * (Ricart-Agrawala, Maekawa): `step(state, input) → [state, out[]]`, where an input is the local
 * program asking to enter (`want`), leaving (`exit`), or a message. Every rank runs the common
 * workload (think → enter → hold → exit, `entries` times) while its message loop keeps answering the
 * others; a rank stops once every rank has said it is finished (a `Finished` message, not counted
 * as the algorithm's traffic). Messages a step addresses to its own rank are handled at once,
 * without the network, and are not counted.
 */
import { ANY_SOURCE, ANY_TAG, type Communicator } from 'dsmpi';
import { criticalSection, deferred, mutexDefaults, Net, type CsInterval, type MutexOptions, type MutexResult } from './common.ts';

export interface Out {
  to: number;
  tag: number;
  data: unknown;
}

export type MutexInput = { type: 'want' } | { type: 'exit' } | { type: 'message'; source: number; tag: number; data: unknown };

export interface MutexMachine<S> {
  step(state: S, input: MutexInput): [S, Out[]];
  /** True while the rank may be in the critical section. */
  held(state: S): boolean;
}

export async function runMutexMachine<S>(
  comm: Communicator,
  tags: Record<string, number>,
  finishedTag: number,
  machine: MutexMachine<S>,
  initial: S,
  options: MutexOptions,
): Promise<MutexResult & { state: S }> {
  const { entries, holdMs, thinkMs } = mutexDefaults(options);
  const net = new Net(comm, Object.fromEntries(Object.entries(tags).filter(([, t]) => t !== finishedTag)));
  let state = initial;
  let waiting: ReturnType<typeof deferred> | undefined;

  const apply = (first: MutexInput): void => {
    const inbox: MutexInput[] = [first];
    while (inbox.length > 0) {
      const [next, out] = machine.step(state, inbox.shift()!);
      state = next;
      for (const m of out) {
        if (m.to === comm.rank) inbox.push({ type: 'message', source: comm.rank, tag: m.tag, data: m.data });
        else net.post(m.to, m.tag, m.data);
      }
    }
    if (waiting && machine.held(state)) {
      const w = waiting;
      waiting = undefined;
      w.resolve(undefined);
    }
  };

  const intervals: CsInterval[] = [];
  const client = async (): Promise<void> => {
    for (let e = 0; e < entries; e++) {
      await comm.clock.sleep(comm.random() * thinkMs);
      waiting = deferred();
      const entered = waiting.promise;
      apply({ type: 'want' });
      await entered;
      intervals.push(await criticalSection(comm, options, holdMs));
      apply({ type: 'exit' });
    }
    for (let r = 0; r < comm.size; r++) void comm.isend(null, r, finishedTag);
  };

  const loop = async (): Promise<void> => {
    let finished = 0;
    while (finished < comm.size) {
      const m = await comm.recv(ANY_SOURCE, ANY_TAG);
      if (m.tag === finishedTag) finished++;
      else apply({ type: 'message', source: m.source, tag: m.tag, data: m.data });
    }
  };

  await Promise.all([client(), loop()]);
  return { rank: comm.rank, intervals, sent: net.sent, state };
}

/** (ts, rank) pairs in Lamport's total order: stamp first, rank breaks ties. */
export function precedes(a: readonly [number, number], b: readonly [number, number]): boolean {
  return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
}
