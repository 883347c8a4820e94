/**
 * The client every rank also is: it keeps up to `window` of its values in flight at the leader it
 * trusts and resends those pending too long; the lowest live rank takes over the values of clients
 * the runtime reports dead.
 */
import type { Out } from '../../common/serve.ts';
import { range } from '../../common/serve.ts';
import { Tag, type Value } from './messages.ts';
import { trustedLeader, type SequenceState } from './state.ts';

/** Client: keep up to `window` own values in flight, and resend those pending too long. */
export function pump(s: SequenceState, nowMs: number, out: Out[]): void {
  if (s.finished) return;
  const lead = trustedLeader(s);
  const batch: Value[] = [];
  let inFlight = 0;
  while (s.mineFrom < s.mine.length && s.decidedSet.has(s.mine[s.mineFrom])) s.mineFrom++;
  for (let i = s.mineFrom; i < s.mine.length; i++) {
    const v = s.mine[i];
    if (s.decidedSet.has(v)) continue;
    if (inFlight >= s.options.window) break;
    inFlight++;
    const sent = s.sentMs.get(v);
    if (sent === undefined || nowMs - sent >= s.options.retryMs) {
      s.sentMs.set(v, nowMs);
      batch.push(v);
    }
  }
  if (batch.length > 0) out.push({ to: lead, tag: Tag.Propose, data: { values: batch } });
}

/** The lowest live rank also submits the values of clients the runtime reports dead. */
export function adoptDeadClients(s: SequenceState, failed: readonly number[]): void {
  const live = range(0, s.size).filter((r) => !failed.includes(r));
  const adopted = live[0] === s.rank ? failed.flatMap((r) => s.values[r]) : [];
  if (adopted.length > 0 && s.mine.length !== s.values[s.rank].length + adopted.length) {
    s.mine = [...s.values[s.rank], ...adopted];
    s.mineFrom = 0;
  }
}
