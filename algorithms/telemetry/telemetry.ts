/**
 * Telemetry for any algorithm (the book's exercise 4 in 8.6, after the telemetry communicator of
 * 2.14, with the metrics of 8.5.2). `instrument(comm, ...)` returns a communicator that behaves like
 * `comm` but reports every send, receive, receive timeout, phase change and decision as an event to
 * a telemetry rank over a separate channel (a `dup` of the world, so the events never mix with the
 * algorithm's messages). The telemetry rank gathers the events with `collectTelemetry` and
 * `summarize` turns them into the 8.5.2 metrics: message complexity (messages, bytes, per tag), time
 * complexity (communication steps — the causal depth of the decision — and rounds), latency per phase,
 * time to decide, and retries and NACKs.
 *
 * To count communication steps each payload travels wrapped with its sender's causal depth (the
 * longest chain of messages behind it), and is unwrapped on receipt: the algorithm sees its own data.
 * Byte counts are those of the algorithm's payload as JSON (what it sends, not the framing).
 * Times are `comm.clock` times relative to a barrier at the start: shared virtual time in the
 * simulator, each process's own clock (aligned by that barrier, to within its latency) under dsrun.
 */
import { defineTags, ANY_SOURCE, ErrorCode, isDsError, type Communicator, type Message, type RecvOptions } from 'dsmpi';

export const Tag = defineTags('telemetry', ['Event', 'End']);

export type TelemetryEvent =
  | {
      kind: 'send';
      rank: number;
      t: number;
      tag: number;
      bytes: number;
      peer: number;
    }
  | {
      kind: 'recv';
      rank: number;
      t: number;
      tag: number;
      bytes: number;
      peer: number;
      depth: number;
    }
  | { kind: 'timeout'; rank: number; t: number }
  | { kind: 'phase'; rank: number; t: number; phase: string }
  | { kind: 'decision'; rank: number; t: number; depth: number };

/**
 * Says what a message means to the algorithm: a phase it starts (`{ phase }`: one event per change
 * of label on a rank) or a decision (`{ decision: true }`: the rank's first one counts).
 */
export type Classify = (direction: 'send' | 'recv', tag: number, data: unknown) => { phase?: string; decision?: boolean } | undefined;

interface Wrapped {
  __telemetry: number;
  d: unknown;
}
const isWrapped = (x: unknown): x is Wrapped => typeof x === 'object' && x !== null && '__telemetry' in x;
const bytesOf = (x: unknown): number => (x === undefined ? 0 : JSON.stringify(x).length);

export interface Instrumented {
  comm: Communicator;
  /** Reports an event the messages do not show (a phase, a decision). */
  phase(label: string): void;
  decision(): void;
  /** Tells the telemetry rank this rank is done (after its last message). */
  end(): Promise<void>;
}

/**
 * Wraps `comm` (which must be `channel`'s parent or a sibling) so that its traffic is reported to
 * `telemetryRank` of `channel`. `t0` is the time origin (take it right after a barrier).
 */
export function instrument(
  comm: Communicator,
  channel: Communicator,
  telemetryRank: number,
  t0: number,
  classify?: Classify,
): Instrumented {
  let depth = 0;
  let lastPhase: string | undefined;
  let decided = false;
  const now = (): number => comm.clock.now() - t0;
  const emit = (e: TelemetryEvent): void => {
    channel.isend(e, telemetryRank, Tag.Event).then(undefined, () => undefined);
  };
  const phase = (label: string): void => {
    if (label === lastPhase) return;
    lastPhase = label;
    emit({ kind: 'phase', rank: comm.rank, t: now(), phase: label });
  };
  const decision = (): void => {
    if (decided) return;
    decided = true;
    emit({ kind: 'decision', rank: comm.rank, t: now(), depth });
  };
  const meaning = (direction: 'send' | 'recv', tag: number, data: unknown): void => {
    const m = classify?.(direction, tag, data);
    if (m?.phase !== undefined) phase(m.phase);
    if (m?.decision) decision();
  };
  const wrap = (data: unknown, dest: number, tag: number): Wrapped => {
    emit({
      kind: 'send',
      rank: comm.rank,
      t: now(),
      tag,
      bytes: bytesOf(data),
      peer: dest,
    });
    meaning('send', tag, data);
    return { __telemetry: depth, d: data };
  };
  const unwrap = <T>(m: Message<T>): Message<T> => {
    if (!isWrapped(m.data)) return m;
    const { __telemetry: h, d } = m.data;
    depth = Math.max(depth, h + 1);
    emit({
      kind: 'recv',
      rank: comm.rank,
      t: now(),
      tag: m.tag,
      bytes: bytesOf(d),
      peer: m.source,
      depth,
    });
    meaning('recv', m.tag, d);
    return { ...m, data: d as T };
  };
  const timedOut = (err: unknown): never => {
    if (isDsError(err) && err.code === ErrorCode.Timeout) emit({ kind: 'timeout', rank: comm.rank, t: now() });
    throw err;
  };
  const proxy = new Proxy(comm, {
    get(target, prop) {
      switch (prop) {
        case 'send':
          return (data: unknown, dest: number, tag = 0) => target.send(wrap(data, dest, tag), dest, tag);
        case 'isend':
          return (data: unknown, dest: number, tag = 0) => target.isend(wrap(data, dest, tag), dest, tag);
        case 'recv':
          return <T>(source = ANY_SOURCE, tag?: number, options?: RecvOptions) =>
            target.recv<T>(source, tag, options).then(unwrap, timedOut);
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return {
    comm: proxy,
    phase,
    decision,
    end: () => channel.send(null, telemetryRank, Tag.End),
  };
}

/** On the telemetry rank: every event until each rank not known to be dead has ended. */
export async function collectTelemetry(channel: Communicator, pollMs = 50): Promise<TelemetryEvent[]> {
  const events: TelemetryEvent[] = [];
  const ended = new Set<number>();
  const waiting = (): boolean =>
    Array.from({ length: channel.size }, (_, r) => r).some((r) => !ended.has(r) && !channel.failed().includes(r));
  while (waiting()) {
    try {
      const m = await channel.recv<TelemetryEvent | null>(ANY_SOURCE, undefined, { timeoutMs: pollMs });
      if (m.tag === Tag.End) ended.add(m.source);
      else events.push(m.data!);
    } catch (err) {
      if (!(isDsError(err) && err.code === ErrorCode.Timeout)) throw err;
    }
  }
  // Events a rank sent before its End are already here (per-pair order); drain any stragglers.
  while (channel.iprobe(ANY_SOURCE, Tag.Event)) events.push((await channel.recv<TelemetryEvent>(ANY_SOURCE, Tag.Event)).data);
  return events;
}

export interface TelemetrySummary {
  messages: number;
  bytes: number;
  perTag: Record<string, { messages: number; bytes: number }>;
  /** Distinct phases whose label starts with `roundPhase` (e.g. one Prepare per ballot). */
  rounds: number;
  /** Causal depth of the first decision: communication steps until someone decided. */
  steps: number | undefined;
  /** First decision, and the time by which every deciding rank had decided. */
  decideMs: number | undefined;
  allDecidedMs: number | undefined;
  decided: number;
  /** Mean time from entering each phase (by the label's first word) to the next phase of that rank. */
  phaseMs: Record<string, number>;
  timeouts: number;
}

export function summarize(events: readonly TelemetryEvent[], tagNames: Record<number, string> = {}, roundPhase = ''): TelemetrySummary {
  const sends = events.filter((e) => e.kind === 'send');
  const perTag: TelemetrySummary['perTag'] = {};
  for (const s of sends) {
    const name = tagNames[s.tag] ?? String(s.tag);
    perTag[name] ??= { messages: 0, bytes: 0 };
    perTag[name].messages++;
    perTag[name].bytes += s.bytes;
  }
  const phases = events.filter((e) => e.kind === 'phase').sort((a, b) => a.t - b.t);
  const decisions = events.filter((e) => e.kind === 'decision').sort((a, b) => a.t - b.t);
  const spans: Record<string, number[]> = {};
  for (const p of phases) {
    const end = [...phases, ...decisions].filter((q) => q.rank === p.rank && q.t >= p.t && q !== p).sort((a, b) => a.t - b.t)[0];
    if (!end) continue;
    (spans[p.phase.split(' ')[0]] ??= []).push(end.t - p.t);
  }
  const phaseMs = Object.fromEntries(Object.entries(spans).map(([k, v]) => [k, v.reduce((a, b) => a + b, 0) / v.length]));
  return {
    messages: sends.length,
    bytes: sends.reduce((a, s) => a + s.bytes, 0),
    perTag,
    rounds: new Set(phases.filter((p) => p.phase.startsWith(roundPhase)).map((p) => p.phase)).size,
    steps: decisions[0]?.depth,
    decideMs: decisions[0]?.t,
    allDecidedMs: decisions.at(-1)?.t,
    decided: decisions.length,
    phaseMs,
    timeouts: events.filter((e) => e.kind === 'timeout').length,
  };
}

/** The summary as a two-column table, then the one-line form `messages=… bytes=… rounds=… …`. */
export function formatSummary(s: TelemetrySummary): string {
  const ms = (x: number | undefined): string => (x === undefined ? '-' : x.toFixed(1));
  const rows: Array<[string, string]> = [
    ['messages', String(s.messages)],
    ['bytes', String(s.bytes)],
    ['rounds', String(s.rounds)],
    ['steps to decide', String(s.steps ?? '-')],
    ['first decision ms', ms(s.decideMs)],
    ['all decided ms', ms(s.allDecidedMs)],
    ['ranks decided', String(s.decided)],
    ...Object.entries(s.phaseMs).map(([k, v]): [string, string] => [`${k} phase ms (mean)`, ms(v)]),
    ['timer wake-ups', String(s.timeouts)],
    ...Object.entries(s.perTag).map(([k, v]): [string, string] => [`  ${k}`, `${v.messages} msgs, ${v.bytes} B`]),
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  const nacks = s.perTag['Nack']?.messages ?? 0;
  return [
    `${'metric'.padEnd(w)}  value`,
    ...rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`),
    `messages=${s.messages} bytes=${s.bytes} rounds=${s.rounds} retries=${Math.max(0, s.rounds - 1)} nacks=${nacks} steps=${s.steps ?? '-'} decide_ms=${ms(s.decideMs)}`,
  ].join('\n');
}
