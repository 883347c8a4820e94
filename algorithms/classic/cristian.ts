/**
 * Cristian's algorithm (course notes B2): a client asks the time server (rank 0) for its time. T1:
 * the client sends the TimeRequest; T2: the server receives it; T3: the server sends its TimeReply
 * {T2, T3}; T4: the client receives it (T1, T4 on the client's clock; T2, T3 on the server's).
 *   round trip   δ = (T4 − T1) − (T3 − T2)
 *   new time     T3 + δ/2,  i.e. offset θ = ((T2 − T1) + (T3 − T4)) / 2
 *   error        at most ±δ/2 (the two one-way delays are unknown, only their sum)
 * The client samples a few times and keeps the sample with the smallest δ (NTP's filter).
 */
import { defineTags, type Communicator } from 'dsmpi';
import { Net, type SentCounts } from './common.ts';
import { randomDriftingClock, reportOf, type ClockReport, type DriftingClock, type DriftOptions } from './drifting-clock.ts';

export const Tag = defineTags('cristian', ['TimeRequest', 'TimeReply']);

export interface CristianSample {
  rttMs: number;
  offsetMs: number;
  newTimeMs: number;
  errorMs: number;
}

/** The formulas, on the four timestamps. */
export function cristianEstimate(t1: number, t2: number, t3: number, t4: number): CristianSample {
  const rttMs = t4 - t1 - (t3 - t2);
  return { rttMs, offsetMs: (t2 - t1 + (t3 - t4)) / 2, newTimeMs: t3 + rttMs / 2, errorMs: rttMs / 2 };
}

export interface CristianOptions extends DriftOptions {
  /** Requests per client (default 3). */
  samples?: number;
  /** Longest random time the server takes between T2 and T3 (default 0.5 ms). */
  serverDelayMs?: number;
}

export interface CristianResult {
  report: ClockReport;
  /** The sample used (undefined on the server). */
  best?: CristianSample;
  sent: SentCounts;
}

export async function cristian(comm: Communicator, options: CristianOptions = {}, clock?: DriftingClock): Promise<CristianResult> {
  const samples = options.samples ?? 3;
  const c = clock ?? randomDriftingClock(comm, options);
  const net = new Net(comm, Tag);
  if (comm.rank === 0) {
    for (let i = 0; i < samples * (comm.size - 1); i++) {
      const m = await comm.recv(undefined, Tag.TimeRequest);
      const t2 = c.read();
      await comm.clock.sleep(comm.random() * (options.serverDelayMs ?? 0.5));
      net.post(m.source, Tag.TimeReply, { t2, t3: c.read() });
    }
    return { report: reportOf(0, c, 0, c.trueNow()), sent: net.sent };
  }
  let best: CristianSample | undefined;
  for (let i = 0; i < samples; i++) {
    const t1 = c.read();
    net.post(0, Tag.TimeRequest, null);
    const { t2, t3 } = (await comm.recv<{ t2: number; t3: number }>(0, Tag.TimeReply)).data;
    const s = cristianEstimate(t1, t2, t3, c.read());
    if (!best || s.rttMs < best.rttMs) best = s;
  }
  // The offset was measured against the clock's reading then; the clock has run on since, unchanged.
  c.adjust(best!.offsetMs);
  comm.note('adjusted', { offsetMs: best!.offsetMs, errorMs: best!.errorMs });
  return { report: reportOf(comm.rank, c, best!.errorMs, c.trueNow()), best, sent: net.sent };
}
