import { computeReport, formatReport } from './view/run-report.ts';
import { formatTrace, type TraceEvent } from '../runtime/protocol/trace-event.ts';
import { MinHeap } from '../runtime/protocol/min-heap.ts';

/** One rank's trace file (JSONL text) and how far the clock of the host that wrote it is ahead of the launcher's. */
export interface RankTrace {
  text: string;
  /** Milliseconds (positive: the host's clock is ahead); 0 or absent on the launcher's own machine. */
  clockOffsetMs?: number;
}

/**
 * Merges the ranks' trace files and the launcher's own events into one trace. All are timed in epoch
 * milliseconds of the clock that recorded them; a rank's times are first moved to the launcher's
 * clock by its host's measured offset, and the merged trace counts from `t0`, the job's time 0 (when
 * every rank had registered), so start-up events have negative times.
 *
 * Clocks of different processes (and hosts) never agree exactly, so the merge is causal rather than
 * a plain sort: each rank's events keep their order, a delivery comes after its send, and times never
 * go backwards. An event that its clock would put before its cause takes its cause's time (a delivery
 * its send's, an event its rank's previous event's). Among events free to go next, the earliest goes
 * first; at equal times a send comes before a delivery, and both before other events. A line cut
 * short by a rank's death (SIGKILL mid-write) is skipped.
 */
export function mergeTraces(
  traces: readonly RankTrace[],
  launcherEvents: readonly TraceEvent[],
  t0: number,
  /** A `run` event (seed, command) to put first. */
  start?: TraceEvent,
): { events: TraceEvent[]; text: string } {
  const atMs = (t: number, shift: number): number => Math.round((t - shift) * 1000) / 1000;
  const launcher = launcherEvents.map((e) => ({ ...e, t: atMs(e.t, t0) })).sort((a, b) => a.t - b.t);
  const ranks = traces.map((trace) => parseLines(trace.text).map((e) => ({ ...e, t: atMs(e.t, t0 + (trace.clockOffsetMs ?? 0)) })));
  const events = causalOrder([launcher, ...ranks]);
  if (start) events.unshift({ ...start, t: Math.min(0, events[0]?.t ?? 0) });
  return { events, text: formatTrace(events) };
}

function parseLines(text: string): TraceEvent[] {
  const events: TraceEvent[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const e = JSON.parse(line) as TraceEvent;
      if (typeof e.t === 'number' && typeof e.ev === 'string') events.push(e);
    } catch {
      // partial last line of a killed rank
    }
  }
  return events;
}

const messageKey = (sender: unknown, msg: unknown): string => `${String(sender)}:${String(msg)}`;
const classOf = (e: TraceEvent): number => (e.ev === 'send' ? 0 : e.ev === 'deliver' ? 1 : 2);

interface Head {
  /** The time the stream's next event gets in the merged trace. */
  t: number;
  cls: number;
  stream: number;
}

/**
 * A k-way merge of event streams (each in its own order) in which a delivery waits until its send is
 * out. Deliveries whose send is in no stream (the sender's trace is missing) wait for nothing.
 */
function causalOrder(streams: TraceEvent[][]): TraceEvent[] {
  const traced = new Set<string>();
  for (const stream of streams) for (const e of stream) if (e.ev === 'send') traced.add(messageKey(e.rank, e.msg));
  const sentAt = new Map<string, number>();
  /** Streams whose next event is a delivery of a message whose send is not out yet. */
  const waiting = new Map<string, number[]>();
  const next = new Array<number>(streams.length).fill(0);
  const last = new Array<number>(streams.length).fill(-Infinity);
  const heads = new MinHeap<Head>((a, b) => a.t - b.t || a.cls - b.cls || a.stream - b.stream);
  const offer = (stream: number): void => {
    const e = streams[stream][next[stream]];
    if (!e) return;
    let t = Math.max(e.t, last[stream]);
    if (e.ev === 'deliver') {
      const key = messageKey(e.from, e.msg);
      if (traced.has(key)) {
        const sent = sentAt.get(key);
        if (sent === undefined) {
          waiting.set(key, [...(waiting.get(key) ?? []), stream]);
          return;
        }
        t = Math.max(t, sent);
      }
    }
    heads.push({ t, cls: classOf(e), stream });
  };
  streams.forEach((_, stream) => offer(stream));
  const total = streams.reduce((n, s) => n + s.length, 0);
  const merged: TraceEvent[] = [];
  while (merged.length < total) {
    // Empty only for inconsistent files (a delivery recorded before its own send): take the earliest waiter.
    const head = heads.pop() ?? releaseEarliestWaiter(streams, next, last, waiting);
    const e = streams[head.stream][next[head.stream]++];
    e.t = head.t;
    last[head.stream] = head.t;
    merged.push(e);
    if (e.ev === 'send') {
      const key = messageKey(e.rank, e.msg);
      sentAt.set(key, e.t);
      const released = waiting.get(key) ?? [];
      waiting.delete(key);
      for (const stream of released) offer(stream);
    }
    offer(head.stream);
  }
  return merged;
}

function releaseEarliestWaiter(streams: TraceEvent[][], next: number[], last: number[], waiting: Map<string, number[]>): Head {
  let best: { key: string; stream: number; t: number } | undefined;
  for (const [key, list] of waiting) {
    for (const stream of list) {
      const t = Math.max(streams[stream][next[stream]].t, last[stream]);
      if (!best || t < best.t) best = { key, stream, t };
    }
  }
  const rest = waiting.get(best!.key)!.filter((s) => s !== best!.stream);
  if (rest.length > 0) waiting.set(best!.key, rest);
  else waiting.delete(best!.key);
  return { t: best!.t, cls: 1, stream: best!.stream };
}

/** Prints messages and bytes per rank and per tag, and marked operations (dsrun --summary). */
export function printSummary(events: readonly TraceEvent[], size: number, print: (line: string) => void): void {
  const lines = formatReport(computeReport(events, size)).trimEnd().split('\n');
  print(`dsrun: ${lines[0]}`);
  for (const line of lines.slice(1)) print(line);
}
