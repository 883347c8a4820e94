/**
 * The Berkeley algorithm (Gusella and Zatti; course notes B3): the master (rank 0) Polls every
 * clock, estimates each one's offset from its own Cristian-style (reading + δ/2 − master time on
 * arrival), averages the offsets of the clocks that agree (a reading farther than `toleranceMs` from
 * the median is left out: a fault-tolerant average), and sends every rank, itself included, the
 * Adjust it needs to reach the average. It sends a delta, not a time, so the Adjust's own transit
 * time does not matter. No clock is the reference: this is internal synchronisation.
 */
import { defineTags, type Communicator } from 'dsmpi';
import { Net, type SentCounts } from './common.ts';
import { randomDriftingClock, reportOf, type ClockReport, type DriftingClock, type DriftOptions } from './drifting-clock.ts';

export const Tag = defineTags('berkeley', ['Poll', 'Clock', 'Adjust']);

export interface BerkeleyAverage {
  /** The average offset of the included clocks (relative to the master). */
  averageMs: number;
  included: boolean[];
  /** What each clock must add (master first). Over the included clocks they sum to 0. */
  adjustmentsMs: number[];
}

/** The master's computation, on offsets relative to the master (offsets[0] = 0). */
export function berkeleyAverage(offsetsMs: readonly number[], toleranceMs = Infinity): BerkeleyAverage {
  const sorted = [...offsetsMs].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const median = sorted.length % 2 ? sorted[Math.floor(mid)] : (sorted[mid - 1] + sorted[mid]) / 2;
  const included = offsetsMs.map((o) => Math.abs(o - median) <= toleranceMs);
  const kept = offsetsMs.filter((_, i) => included[i]);
  const averageMs = kept.reduce((a, b) => a + b, 0) / kept.length;
  return { averageMs, included, adjustmentsMs: offsetsMs.map((o) => averageMs - o) };
}

export interface BerkeleyOptions extends DriftOptions {
  /** Readings farther than this from the median are not averaged (default Infinity). */
  toleranceMs?: number;
}

export interface BerkeleyResult {
  report: ClockReport;
  /** On the master: the average it computed. */
  average?: BerkeleyAverage;
  sent: SentCounts;
}

export async function berkeley(comm: Communicator, options: BerkeleyOptions = {}, clock?: DriftingClock): Promise<BerkeleyResult> {
  const c = clock ?? randomDriftingClock(comm, options);
  const net = new Net(comm, Tag);
  if (comm.rank !== 0) {
    await comm.recv(0, Tag.Poll);
    net.post(0, Tag.Clock, { t: c.read() });
    const { deltaMs, errorMs } = (await comm.recv<{ deltaMs: number; errorMs: number }>(0, Tag.Adjust)).data;
    c.adjust(deltaMs);
    comm.note('adjusted', { deltaMs });
    return { report: reportOf(comm.rank, c, errorMs, c.trueNow()), sent: net.sent };
  }
  const offsets = [0];
  const errors = [0];
  for (let r = 1; r < comm.size; r++) {
    const t1 = c.read();
    net.post(r, Tag.Poll, null);
    const { t } = (await comm.recv<{ t: number }>(r, Tag.Clock)).data;
    const t4 = c.read();
    offsets.push(t + (t4 - t1) / 2 - t4);
    errors.push((t4 - t1) / 2);
  }
  const average = berkeleyAverage(offsets, options.toleranceMs ?? Infinity);
  for (let r = 1; r < comm.size; r++) net.post(r, Tag.Adjust, { deltaMs: average.adjustmentsMs[r], errorMs: errors[r] });
  c.adjust(average.adjustmentsMs[0]);
  comm.note('average', { offsetMs: average.averageMs, included: average.included });
  return { report: reportOf(0, c, 0, c.trueNow()), average, sent: net.sent };
}
