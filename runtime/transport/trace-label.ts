import { tagName } from '../tag-registry.ts';
import type { TraceEvent } from '../protocol/trace-event.ts';
import { Kind } from '../wire.ts';

/** Longest payload preview written into a trace, in characters. */
export const PREVIEW_CHARS = 80;

/** The declared name of a message's tag (`defineTags`), for point-to-point messages of a program. */
export function messageName(kind: number | undefined, ctx: number | undefined, tag: number | undefined): string | undefined {
  if (kind !== Kind.Message || ctx === undefined || ctx % 2 !== 0 || tag === undefined) return undefined;
  return tagName(tag);
}

/**
 * The start of a payload as compact JSON, at most PREVIEW_CHARS characters (`…` marks a cut).
 * Walks only as far as the limit, so a large array costs no more than a small one. `encodedBytes`,
 * the message's size, lets small messages take a faster path.
 */
export function payloadPreview(data: unknown, encodedBytes = Infinity): string {
  if (encodedBytes <= 4 * PREVIEW_CHARS) {
    // Small data: the native stringifier is several times faster than the walk below.
    const json = JSON.stringify(data) ?? 'null';
    if (!json.includes('{"0":')) return json.length <= PREVIEW_CHARS ? json : json.slice(0, PREVIEW_CHARS - 1) + '…';
  }
  const out: string[] = [];
  let length = 0;
  const put = (s: string): boolean => {
    out.push(s);
    length += s.length;
    return length <= PREVIEW_CHARS;
  };
  const walk = (v: unknown): boolean => {
    if (v === null || v === undefined) return put('null');
    if (typeof v === 'string') return put(JSON.stringify(v.length > PREVIEW_CHARS ? v.slice(0, PREVIEW_CHARS) : v));
    if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return put(String(v));
    if (v instanceof Uint8Array) return put(`<${v.length} bytes>`);
    if (Array.isArray(v)) {
      if (!put('[')) return false;
      for (let i = 0; i < v.length; i++) if ((i > 0 && !put(',')) || !walk(v[i])) return false;
      return put(']');
    }
    if (typeof v === 'object') {
      if (!put('{')) return false;
      let first = true;
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        if ((!first && !put(',')) || !put(JSON.stringify(k) + ':') || !walk(x)) return false;
        first = false;
      }
      return put('}');
    }
    return put(String(v));
  };
  const whole = walk(data);
  const text = out.join('');
  return whole ? text : text.slice(0, PREVIEW_CHARS - 1) + '…';
}

/** What a trace says of one message (the sender's numbering, its envelope, its size). */
export interface TracedMessage {
  /** The message's number at its sender, 1, 2, ... */
  msg: number;
  kind?: number;
  ctx?: number;
  tag?: number;
  /** Encoded size in bytes. */
  bytes: number;
  /** The payload's start (traced on the send). */
  preview?: string;
}

/**
 * The trace event of message `m` at `rank`: `peer` is its receiver, or its sender for a `deliver`.
 * dsrun's fault wrapper and the simulator's network both write their message events with it.
 */
export function messageEvent(
  t: number,
  ev: 'send' | 'deliver' | 'drop' | 'duplicate' | 'reorder',
  rank: number,
  lamport: number,
  peer: number,
  m: TracedMessage,
  extra: { delayMs?: number; reason?: string } = {},
): TraceEvent {
  return {
    t,
    ev,
    rank,
    lamport,
    from: ev === 'deliver' ? peer : undefined,
    to: ev === 'deliver' ? undefined : peer,
    msg: m.msg,
    kind: m.kind,
    ctx: m.ctx,
    tag: m.tag,
    bytes: m.bytes,
    name: messageName(m.kind, m.ctx, m.tag),
    preview: ev === 'send' ? m.preview : undefined,
    delayMs: extra.delayMs,
    reason: extra.reason,
  };
}
