import { Kind } from '../wire.ts';
import type { TraceEvent } from './trace-event.ts';

export interface Traffic {
  messages: number;
  bytes: number;
}

export interface RankTraffic {
  rank: number;
  sent: number;
  bytesSent: number;
  received: number;
  bytesReceived: number;
}

/**
 * Message and bit complexity of a run, from its trace. Counts are of messages handed to the network
 * (sends to oneself never touch it); `received` counts deliveries, duplicates included.
 */
export interface TraceSummary {
  /** All messages sent and their bytes. */
  total: Traffic;
  delivered: number;
  dropped: number;
  duplicated: number;
  /** Indexed by rank. */
  perRank: RankTraffic[];
  /** Point-to-point messages (even contexts: the program's own sends) by tag. */
  perTag: Record<string, Traffic>;
  /** Messages of collectives (odd contexts). */
  collective: Traffic;
  /** One-sided requests and replies. */
  oneSided: Traffic;
}

/** Summarises a trace (the simulator's, or one read back from `dsrun --trace`). */
export function summarizeTrace(events: readonly TraceEvent[], size?: number): TraceSummary {
  const s: TraceSummary = {
    total: { messages: 0, bytes: 0 },
    delivered: 0,
    dropped: 0,
    duplicated: 0,
    perRank: [],
    perTag: {},
    collective: { messages: 0, bytes: 0 },
    oneSided: { messages: 0, bytes: 0 },
  };
  const rankOf = (r: number): RankTraffic => {
    while (s.perRank.length <= r) s.perRank.push({ rank: s.perRank.length, sent: 0, bytesSent: 0, received: 0, bytesReceived: 0 });
    return s.perRank[r];
  };
  if (size !== undefined) for (let r = 0; r < size; r++) rankOf(r);
  const add = (t: Traffic, bytes: number): void => {
    t.messages++;
    t.bytes += bytes;
  };
  for (const e of events) {
    const bytes = e.bytes ?? 0;
    switch (e.ev) {
      case 'send': {
        add(s.total, bytes);
        if (e.rank !== undefined) {
          const r = rankOf(e.rank);
          r.sent++;
          r.bytesSent += bytes;
        }
        if (e.kind === Kind.Message) {
          if ((e.ctx ?? 0) % 2 === 0) add((s.perTag[String(e.tag)] ??= { messages: 0, bytes: 0 }), bytes);
          else add(s.collective, bytes);
        } else {
          add(s.oneSided, bytes);
        }
        break;
      }
      case 'deliver':
        s.delivered++;
        if (e.rank !== undefined) {
          const r = rankOf(e.rank);
          r.received++;
          r.bytesReceived += bytes;
        }
        break;
      case 'drop':
        s.dropped++;
        break;
      case 'duplicate':
        s.duplicated++;
        break;
      default:
        break;
    }
  }
  return s;
}
