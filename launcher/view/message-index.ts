import type { TraceEvent } from '../../runtime/protocol/trace-event.ts';

/** One message of a trace: its send and what became of it, with Lamport and vector times. */
export interface TracedMessage {
  from: number;
  to: number;
  msg: number;
  tag?: number;
  ctx?: number;
  kind?: number;
  bytes?: number;
  sentAt: number;
  sendLamport?: number;
  /** The sender's vector clock right after the send. */
  sendVector: number[];
  deliveries: Array<{ t: number; lamport?: number; vector: number[] }>;
  dropped?: { t: number; reason?: string };
}

/** Number of ranks a trace speaks of. */
export function rankCount(events: readonly TraceEvent[]): number {
  let max = -1;
  const see = (v: number | number[] | undefined): void => {
    for (const r of Array.isArray(v) ? v : v === undefined ? [] : [v]) if (r > max) max = r;
  };
  for (const e of events) {
    see(e.rank);
    see(e.from);
    see(e.to);
  }
  return max + 1;
}

/**
 * Pairs every send with its deliveries (several when duplicated) and drop, and computes vector
 * times by replaying the sends and deliveries in trace order.
 */
export function indexMessages(events: readonly TraceEvent[]): TracedMessage[] {
  const n = rankCount(events);
  const clocks = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const byKey = new Map<string, TracedMessage>();
  const messages: TracedMessage[] = [];
  for (const e of events) {
    if (e.ev === 'send' && typeof e.rank === 'number' && typeof e.to === 'number' && e.msg !== undefined) {
      const vc = clocks[e.rank];
      vc[e.rank]++;
      const m: TracedMessage = {
        from: e.rank,
        to: e.to,
        msg: e.msg,
        tag: e.tag,
        ctx: e.ctx,
        kind: e.kind,
        bytes: e.bytes,
        sentAt: e.t,
        sendLamport: e.lamport,
        sendVector: [...vc],
        deliveries: [],
      };
      byKey.set(`${e.rank}:${e.msg}`, m);
      messages.push(m);
    } else if (e.ev === 'deliver' && typeof e.rank === 'number' && typeof e.from === 'number') {
      const m = byKey.get(`${e.from}:${e.msg}`);
      const vc = clocks[e.rank];
      if (m) for (let i = 0; i < n; i++) vc[i] = Math.max(vc[i], m.sendVector[i]);
      vc[e.rank]++;
      m?.deliveries.push({ t: e.t, lamport: e.lamport, vector: [...vc] });
    } else if (e.ev === 'drop' && typeof e.rank === 'number') {
      const m = byKey.get(`${e.rank}:${e.msg}`);
      if (m) m.dropped = { t: e.t, reason: e.reason };
    }
  }
  return messages;
}
