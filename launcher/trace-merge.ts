import { computeReport, formatReport } from './view/run-report.ts';
import { formatTrace, type TraceEvent } from '../runtime/trace-event.ts';

/**
 * Merges the ranks' trace files (JSONL text each) and the launcher's own events into one trace,
 * sorted by time. All are timed in epoch milliseconds; the merged trace counts from `t0`, the job's
 * time 0 (when every rank had registered), so start-up events have negative times. Each process reads its own clock: on one machine they differ by well under a
 * millisecond, but that can put a delivery a few microseconds before its send; such a delivery
 * takes its send's time, so the merged trace never shows an effect before its cause. A line cut
 * short by a rank's death (SIGKILL mid-write) is skipped.
 */
export function mergeTraces(texts: readonly string[], launcherEvents: readonly TraceEvent[], t0: number): { events: TraceEvent[]; text: string } {
  const events: TraceEvent[] = launcherEvents.map((e) => ({ ...e }));
  for (const text of texts) {
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        const e = JSON.parse(line) as TraceEvent;
        if (typeof e.t === 'number' && typeof e.ev === 'string') events.push(e);
      } catch {
        // partial last line of a killed rank
      }
    }
  }
  for (const e of events) e.t = Math.round((e.t - t0) * 1000) / 1000;
  const sentAt = new Map<string, number>();
  for (const e of events) if (e.ev === 'send') sentAt.set(`${e.rank}:${e.msg}`, e.t);
  for (const e of events) {
    if (e.ev !== 'deliver') continue;
    const t = sentAt.get(`${String(e.from)}:${e.msg}`);
    if (t !== undefined && e.t < t) e.t = t;
  }
  // Stable sort by time; at equal times a send comes before its delivery.
  const order = (e: TraceEvent): number => (e.ev === 'send' ? 0 : e.ev === 'deliver' ? 1 : 2);
  events.sort((a, b) => a.t - b.t || order(a) - order(b));
  return { events, text: formatTrace(events) };
}

/** Prints messages and bytes per rank and per tag, and marked operations (dsrun --summary). */
export function printSummary(events: readonly TraceEvent[], size: number, print: (line: string) => void): void {
  const lines = formatReport(computeReport(events, size)).trimEnd().split('\n');
  print(`dsrun: ${lines[0]}`);
  for (const line of lines.slice(1)) print(line);
}
