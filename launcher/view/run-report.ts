import { summarizeTrace, type TraceSummary } from '../../runtime/protocol/trace-summary.ts';
import type { TraceEvent } from '../../runtime/protocol/trace-event.ts';

/** Latency and cost of one kind of user-marked operation (`comm.beginOperation(name)`). */
export interface OperationStats {
  name: string;
  begun: number;
  completed: number;
  /** Latency percentiles of completed operations, ms. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Point-to-point messages of the whole run divided by completed operations of this name. */
  messagesPerOperation: number;
}

export interface RunReport {
  durationMs: number;
  summary: TraceSummary;
  operations: OperationStats[];
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

/** The run's traffic (message and bit complexity) and its marked operations. */
export function computeReport(events: readonly TraceEvent[], size?: number): RunReport {
  const summary = summarizeTrace(events, size);
  const start = events.reduce((min, e) => Math.min(min, e.t), Infinity);
  const end = events.reduce((max, e) => Math.max(max, e.t), -Infinity);
  const begun = new Map<string, number>();
  const latencies = new Map<string, number[]>();
  const byName = new Map<string, number>();
  for (const e of events) {
    if (e.ev !== 'op' || e.name === undefined) continue;
    const key = `${e.rank}:${e.op}`;
    if (e.phase === 'begin') {
      begun.set(key, e.t);
      byName.set(e.name, (byName.get(e.name) ?? 0) + 1);
    } else if (e.phase === 'end' && begun.has(key)) {
      latencies.set(e.name, [...(latencies.get(e.name) ?? []), e.t - begun.get(key)!]);
    }
  }
  const p2p = Object.values(summary.perTag).reduce((s, t) => s + t.messages, 0);
  const operations = [...byName.entries()].map(([name, count]) => {
    const l = (latencies.get(name) ?? []).sort((a, b) => a - b);
    return {
      name,
      begun: count,
      completed: l.length,
      p50: percentile(l, 0.5),
      p90: percentile(l, 0.9),
      p99: percentile(l, 0.99),
      max: l.length ? l[l.length - 1] : NaN,
      messagesPerOperation: l.length ? p2p / l.length : NaN,
    };
  });
  return { durationMs: Number.isFinite(start) ? end - start : 0, summary, operations };
}

const ms = (x: number): string => (Number.isNaN(x) ? '-' : x >= 100 ? x.toFixed(0) : x.toFixed(2));

/** The report as plain-text tables (what `dsrun --summary` prints). */
export function formatReport(report: RunReport): string {
  const s = report.summary;
  const pad = (v: string | number, w: number): string => String(v).padStart(w);
  const lines = [
    `summary: ${s.total.messages} messages, ${s.total.bytes} bytes sent; ${s.delivered} delivered, ${s.dropped} dropped` +
      `${s.duplicated ? `, ${s.duplicated} duplicated` : ''} in ${ms(report.durationMs)} ms`,
    `  ${pad('rank', 6)} ${pad('sent', 8)} ${pad('bytes', 10)} ${pad('received', 9)} ${pad('bytes', 10)}`,
    ...s.perRank.map(
      (r) => `  ${pad(r.rank, 6)} ${pad(r.sent, 8)} ${pad(r.bytesSent, 10)} ${pad(r.received, 9)} ${pad(r.bytesReceived, 10)}`,
    ),
    `  ${pad('tag', 11)} ${pad('messages', 8)} ${pad('bytes', 10)}`,
    ...Object.keys(s.perTag)
      .sort((a, b) => Number(a) - Number(b))
      .map((tag) => `  ${pad(tag, 11)} ${pad(s.perTag[tag].messages, 8)} ${pad(s.perTag[tag].bytes, 10)}`),
    `  ${pad('collectives', 11)} ${pad(s.collective.messages, 8)} ${pad(s.collective.bytes, 10)}`,
    `  ${pad('one-sided', 11)} ${pad(s.oneSided.messages, 8)} ${pad(s.oneSided.bytes, 10)}`,
  ];
  if (report.operations.length > 0) {
    lines.push(
      `  ${'operation'.padEnd(14)} ${pad('begun', 6)} ${pad('completed', 9)} ${pad('p50 ms', 8)} ${pad('p90 ms', 8)} ${pad('p99 ms', 8)} ${pad('max ms', 8)} ${pad('messages/op', 11)}`,
    );
    for (const o of report.operations) {
      lines.push(
        `  ${o.name.padEnd(14)} ${pad(o.begun, 6)} ${pad(o.completed, 9)} ${pad(ms(o.p50), 8)} ${pad(ms(o.p90), 8)} ${pad(ms(o.p99), 8)} ${pad(ms(o.max), 8)} ${pad(ms(o.messagesPerOperation), 11)}`,
      );
    }
  }
  return lines.join('\n') + '\n';
}

/**
 * A small SVG plot of throughput over time: messages delivered (and operations completed, when the
 * program marks them) per time bucket, with partitions and pauses shaded and crashes as red lines.
 */
export function throughputSvg(events: readonly TraceEvent[], buckets = 60): string {
  const W = 720;
  const H = 200;
  const L = 50;
  const B = 30;
  const start = events.reduce((min, e) => Math.min(min, e.t), Infinity);
  const end = events.reduce((max, e) => Math.max(max, e.t), -Infinity);
  if (!Number.isFinite(start)) return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"></svg>`;
  const span = Math.max(end - start, 1e-3);
  const width = span / buckets;
  const delivered = new Array<number>(buckets).fill(0);
  const completed = new Array<number>(buckets).fill(0);
  const bucketOf = (t: number): number => Math.min(buckets - 1, Math.floor((t - start) / width));
  for (const e of events) {
    if (e.ev === 'deliver') delivered[bucketOf(e.t)]++;
    if (e.ev === 'op' && e.phase === 'end') completed[bucketOf(e.t)]++;
  }
  const peak = Math.max(1, ...delivered, ...completed);
  const x = (t: number): number => L + ((t - start) / span) * (W - L - 10);
  const y = (v: number): number => H - B - (v / peak) * (H - B - 10);
  const line = (series: number[]): string =>
    series.map((v, i) => `${i ? 'L' : 'M'}${x(start + (i + 0.5) * width).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  const shades: string[] = [];
  for (const e of events) {
    if (e.ev === 'partition' || e.ev === 'pause') {
      const stop = events.find((h) => h.t >= e.t && (e.ev === 'partition' ? h.ev === 'heal' : h.ev === 'resume' && h.rank === e.rank));
      const until = stop?.t ?? e.untilMs ?? end;
      const color = e.ev === 'partition' ? '#f08c00' : '#868e96';
      shades.push(
        `<rect x="${x(e.t).toFixed(1)}" y="10" width="${Math.max(1, x(until) - x(e.t)).toFixed(1)}" height="${H - B - 10}" fill="${color}" fill-opacity="0.15"><title>${e.ev}</title></rect>`,
      );
    } else if (e.ev === 'crash') {
      shades.push(
        `<line x1="${x(e.t).toFixed(1)}" x2="${x(e.t).toFixed(1)}" y1="10" y2="${H - B}" stroke="#cc0000" stroke-dasharray="3 2"><title>rank ${e.rank} crashed</title></line>`,
      );
    }
  }
  const hasOps = completed.some((v) => v > 0);
  return `<svg xmlns="http://www.w3.org/2000/svg" class="throughput" width="${W}" height="${H}" font-family="sans-serif" font-size="11">
  ${shades.join('\n  ')}
  <line x1="${L}" y1="${H - B}" x2="${W - 10}" y2="${H - B}" stroke="#999"/>
  <line x1="${L}" y1="10" x2="${L}" y2="${H - B}" stroke="#999"/>
  <text x="${L - 6}" y="14" text-anchor="end">${peak}</text>
  <text x="${L - 6}" y="${H - B}" text-anchor="end">0</text>
  <text x="${L}" y="${H - B + 16}">${ms(0)} ms</text>
  <text x="${W - 10}" y="${H - B + 16}" text-anchor="end">${ms(span)} ms</text>
  <text x="${(W + L) / 2}" y="${H - 4}" text-anchor="middle">per ${ms(width)} ms: messages delivered (blue)${hasOps ? ', operations completed (green)' : ''}</text>
  <path class="delivered" d="${line(delivered)}" fill="none" stroke="#3366cc" stroke-width="1.5"/>
  ${hasOps ? `<path class="completed" d="${line(completed)}" fill="none" stroke="#2b8a3e" stroke-width="1.5"/>` : ''}
</svg>`;
}
