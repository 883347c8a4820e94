/**
 * Receiving with a deadline, for algorithms that wait in loops ("collect replies until the
 * deadline"). A deadline already past still takes what has arrived: a rank that was paused, or
 * slow, past its deadline must count the replies that came in time rather than report a timeout
 * without looking.
 */
import { ANY_SOURCE, ANY_TAG, ErrorCode, isDsError, type Communicator, type Message } from 'dsmpi';

/** The next message (any source; any tag unless given), or undefined once `timeoutMs` has passed. */
export async function recvWithin<T = unknown>(comm: Communicator, timeoutMs: number, tag = ANY_TAG): Promise<Message<T> | undefined> {
  try {
    return await comm.recv<T>(ANY_SOURCE, tag, { timeoutMs: wholeMicroseconds(Math.max(0, timeoutMs)) });
  } catch (err) {
    if (isDsError(err) && err.code === ErrorCode.Timeout) return undefined;
    throw err;
  }
}

/**
 * A timeout rounded up to a whole microsecond. The simulator's virtual clock counts whole
 * microseconds and rounds a timer's delay to the nearest, so a timer of less than half a microsecond
 * fires without time moving on: a loop "receive until the deadline" would then spin for ever.
 */
export function wholeMicroseconds(ms: number): number {
  return Math.ceil(ms * 1000) / 1000;
}
