/**
 * Central-server mutual exclusion: rank 0 is the coordinator and holds the right to enter; every other
 * rank asks it (Request), waits for its Grant, and gives the right back (Release). The coordinator
 * grants at once when free, otherwise queues the request (first come, first served).
 * 3 messages per entry: Request + Grant to enter, Release to leave.
 */
import { defineTags, ANY_SOURCE, ANY_TAG, type Communicator } from 'dsmpi';
import { criticalSection, mutexDefaults, Net, type CsInterval, type MutexOptions, type MutexResult } from './common.ts';

export const Tag = defineTags('central-mutex', ['Request', 'Grant', 'Release']);

/** The coordinator's state: who holds the right, who waits. */
export interface CoordinatorState {
  holder: number | null;
  queue: number[];
}

/** The coordinator's step: returns the rank to grant to, if any. */
export function stepCoordinator(s: CoordinatorState, msg: { source: number; tag: number }): [CoordinatorState, number | undefined] {
  if (msg.tag === Tag.Request) {
    if (s.holder === null) {
      s.holder = msg.source;
      return [s, msg.source];
    }
    s.queue.push(msg.source);
  } else if (msg.tag === Tag.Release && msg.source === s.holder) {
    s.holder = s.queue.shift() ?? null;
    if (s.holder !== null) return [s, s.holder];
  }
  return [s, undefined];
}

export const CENTRAL_MESSAGES_PER_ENTRY = 3;

/** Rank 0 coordinates, ranks 1..N−1 each enter `entries` times. Needs N ≥ 2. */
export async function centralMutex(comm: Communicator, options: MutexOptions = {}): Promise<MutexResult> {
  if (comm.size < 2) throw new RangeError('centralMutex needs at least 2 ranks: a coordinator and a client');
  const { entries, holdMs, thinkMs } = mutexDefaults(options);
  const net = new Net(comm, Tag);
  const intervals: CsInterval[] = [];
  if (comm.rank === 0) {
    let state: CoordinatorState = { holder: null, queue: [] };
    let releases = 0;
    while (releases < entries * (comm.size - 1)) {
      const m = await comm.recv(ANY_SOURCE, ANY_TAG);
      if (m.tag === Tag.Release) releases++;
      let grant: number | undefined;
      [state, grant] = stepCoordinator(state, m);
      if (grant !== undefined) net.post(grant, Tag.Grant, null);
    }
  } else {
    for (let e = 0; e < entries; e++) {
      await comm.clock.sleep(comm.random() * thinkMs);
      net.post(0, Tag.Request, null);
      await comm.recv(0, Tag.Grant);
      intervals.push(await criticalSection(comm, options, holdMs));
      net.post(0, Tag.Release, null);
    }
  }
  return { rank: comm.rank, intervals, sent: net.sent };
}
