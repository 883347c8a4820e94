/**
 * Token-ring mutual exclusion: one Token goes round the ranks 0 → 1 → … → N−1 → 0; only its holder
 * may enter. A rank that wants to enter waits for the token, enters, and passes it on when it leaves;
 * a rank that does not want it passes it on at once. The token keeps circulating while nobody wants
 * it, so the cost per entry is not bounded (1..N hops of waiting, N messages per idle lap).
 *
 * To end the demo the token counts the entries still to be made; the rank that makes the last one
 * sends it once more round the ring (N−1 messages) so that every rank knows to stop.
 */
import { defineTags, type Communicator } from 'dsmpi';
import { criticalSection, mutexDefaults, Net, type CsInterval, type MutexOptions, type MutexResult } from './common.ts';

export const Tag = defineTags('token-ring', ['Token']);

export interface TokenData {
  /** Entries still to be made by all ranks together. */
  remaining: number;
  /** Set when remaining reached 0: the rank that made the last entry. */
  stoppedBy: number | null;
}

export async function tokenRing(comm: Communicator, options: MutexOptions = {}): Promise<MutexResult> {
  const { entries, holdMs, thinkMs } = mutexDefaults(options);
  const net = new Net(comm, Tag);
  const next = (comm.rank + 1) % comm.size;
  const prev = (comm.rank - 1 + comm.size) % comm.size;
  const intervals: CsInterval[] = [];
  let mine = entries;
  // The rank wants the section again once its think time is over.
  let wantAtMs = comm.clock.now() + comm.random() * thinkMs;
  let token: TokenData | undefined = comm.rank === 0 ? { remaining: entries * comm.size, stoppedBy: null } : undefined;
  for (;;) {
    if (!token) token = (await comm.recv<TokenData>(prev, Tag.Token)).data;
    if (token.stoppedBy !== null) {
      if (next !== token.stoppedBy) net.post(next, Tag.Token, token);
      break;
    }
    if (mine > 0 && comm.clock.now() >= wantAtMs) {
      intervals.push(await criticalSection(comm, options, holdMs));
      mine--;
      token.remaining--;
      wantAtMs = comm.clock.now() + comm.random() * thinkMs;
      if (token.remaining === 0) {
        token.stoppedBy = comm.rank;
        if (comm.size > 1) net.post(next, Tag.Token, token);
        break;
      }
    }
    if (comm.size === 1) {
      await comm.clock.sleep(Math.max(0, wantAtMs - comm.clock.now()));
      continue;
    }
    net.post(next, Tag.Token, token);
    token = undefined;
  }
  return { rank: comm.rank, intervals, sent: net.sent };
}
