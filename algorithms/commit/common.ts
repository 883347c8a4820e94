/** Helpers shared by the commit protocols. */
import type { Communicator } from 'dsmpi';

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

/** Sends to each of `dests`, ignoring ranks known to have failed. */
export async function sendAll(comm: Communicator, data: unknown, dests: number[], tag: number): Promise<void> {
  await Promise.allSettled(dests.map((d) => comm.send(data, d, tag)));
}

export function participantsOf(comm: Communicator, coordinator = 0): number[] {
  return Array.from({ length: comm.size }, (_, i) => i).filter((r) => r !== coordinator);
}
