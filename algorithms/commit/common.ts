/** Helpers shared by the commit protocols. */
import { ANY_SOURCE, ANY_TAG, ErrorCode, isDsError, type Communicator, type Message } from 'dsmpi';

/** A rank's final state in a commit protocol. */
export type CommitOutcome = 'COMMITTED' | 'ABORTED' | 'BLOCKED' | 'CRASHED';

export interface CommitResult {
  rank: number;
  role: 'coordinator' | 'participant';
  outcome: CommitOutcome;
  /** A participant's vote, if it voted. */
  vote?: 'yes' | 'no';
  /** State transitions, in order (INIT, WAIT, …). */
  history: string[];
}

/** The next message (any source, any tag), or undefined after `timeoutMs`. */
export async function recvWithin(comm: Communicator, timeoutMs: number): Promise<Message | undefined> {
  if (timeoutMs <= 0) return undefined;
  try {
    return await comm.recv(ANY_SOURCE, ANY_TAG, { timeoutMs: wholeMicroseconds(timeoutMs) });
  } catch (err) {
    if (isDsError(err) && err.code === ErrorCode.Timeout) return undefined;
    throw err;
  }
}

/** Sends to each of `dests`, ignoring ranks known to have failed. */
export async function sendAll(comm: Communicator, data: unknown, dests: number[], tag: number): Promise<void> {
  await Promise.allSettled(dests.map((d) => comm.send(data, d, tag)));
}

export function participantsOf(comm: Communicator, coordinator = 0): number[] {
  return Array.from({ length: comm.size }, (_, i) => i).filter((r) => r !== coordinator);
}

/**
 * A timeout rounded up to a whole microsecond. The simulator's virtual clock counts whole
 * microseconds and rounds a timer's delay to the nearest, so a timer of less than half a microsecond
 * fires without time moving on: a loop "receive until the deadline" would then spin for ever.
 */
export function wholeMicroseconds(ms: number): number {
  return Math.ceil(ms * 1000) / 1000;
}
