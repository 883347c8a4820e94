/**
 * The trace contract: one JSON object per line (JSONL), written by the simulator and by
 * `dsrun --trace`. docs/traces.md describes every field; keep the two in step and only add fields.
 */

/** What happened. Message events carry the message fields; the others are faults and lifecycle. */
export type TraceEventType =
  /** A rank handed a message to the network. */
  | 'send'
  /** A message reached its destination's runtime (before matching). */
  | 'deliver'
  /** The network lost a message (`reason`: `random`, `partition`, `crashed`, or `chosen` by an explorer). */
  | 'drop'
  /** The network will deliver one more copy of a message. */
  | 'duplicate'
  /** The network holds a message back by `delayMs` more (reorder across senders). */
  | 'reorder'
  /** A rank stopped (crash-stop, or crash-recovery when a `restart` follows). */
  | 'crash'
  /** `rank` was told that rank `from` is lost (its receives from it reject with DS_ERR_PEER_LOST). */
  | 'detect'
  /** A crashed rank started its program again with its durable storage. */
  | 'restart'
  /** A partition began: `from` ranks cannot reach `to` ranks (and back unless `oneWay`). */
  | 'partition'
  /** A partition ended. */
  | 'heal'
  /** A rank stopped taking events until a `resume`. */
  | 'pause'
  | 'resume'
  /** A rank's program returned (`reason` holds an error message if it threw). */
  | 'exit'
  /** What started the run, first in a trace: `seed`, and `command` for dsrun (the line that replays it). */
  | 'run'
  /** A program's own local event (`comm.note(name, value)`): `name`, and `value` when given. */
  | 'note'
  /** A user-marked operation began or ended (`comm.beginOperation(name)`): `name`, `phase`, `op`. */
  | 'op'
  /** dsrun: the trace holds no event of this rank (its host was lost, or it never opened its trace file); `reason` says which. */
  | 'untraced';

export interface TraceEvent {
  /** Milliseconds since the start of the job (virtual time in the simulator). */
  t: number;
  ev: TraceEventType;
  /** The rank where it happened: the sender of send/drop/duplicate/reorder, the receiver of deliver. */
  rank?: number;
  /** That rank's Lamport clock after the event. */
  lamport?: number;
  /** Sender (deliver), the lost rank (detect), or source group of a partition. */
  from?: number | number[];
  /** Destination (send, drop, ...), or target group of a partition. */
  to?: number | number[];
  /** The message's number at its sender, 1, 2, ...: (sender, msg) names one message. */
  msg?: number;
  /** Message kind (codec.ts Kind: 0 point-to-point, 1 one-sided request, 2 one-sided reply). */
  kind?: number;
  /** Communicator context (even: point-to-point, odd: collectives). */
  ctx?: number;
  tag?: number;
  /** Encoded size of the message in bytes. */
  bytes?: number;
  /** Network latency given to a sent message, or the extra hold of a reorder. */
  delayMs?: number;
  /** Why (drop, crash, exit with error). */
  reason?: string;
  /** Partition direction: only `from` → `to` is cut. */
  oneWay?: boolean;
  /** End of a pause, partition or crash-recovery downtime, when scheduled. */
  untilMs?: number;
  /** `op`: the operation's name (e.g. `decide`); `note`: the note's name; message events: the tag's declared name (`defineTags`). */
  name?: string;
  /** `op`: whether it began or ended. */
  phase?: 'begin' | 'end';
  /** `op`: its number at its rank, 1, 2, ...: (rank, op) names one operation. */
  op?: number;
  /** `send`: the payload's start as compact JSON, at most 80 characters (`…` marks a cut). */
  preview?: string;
  /** `note`: the value noted (plain JSON data; long values are cut to a string). */
  value?: unknown;
  /** `run`: the job's seed. */
  seed?: number;
  /** `run`: the command that replays the run (dsrun's command line). */
  command?: string;
}

/** Field order of a written line, so equal runs give equal bytes. */
const KEY_ORDER: ReadonlyArray<keyof TraceEvent> = [
  't',
  'ev',
  'rank',
  'lamport',
  'from',
  'to',
  'msg',
  'kind',
  'ctx',
  'tag',
  'bytes',
  'delayMs',
  'reason',
  'oneWay',
  'untilMs',
  'name',
  'phase',
  'op',
  'preview',
  'value',
  'seed',
  'command',
];

/** One JSONL line (without the newline), fields in the documented order. */
export function formatTraceEvent(event: TraceEvent): string {
  const ordered: Record<string, unknown> = {};
  for (const key of KEY_ORDER) if (event[key] !== undefined) ordered[key] = event[key];
  return JSON.stringify(ordered);
}

/** A whole trace as JSONL text (a newline after every line). */
export function formatTrace(events: readonly TraceEvent[]): string {
  let out = '';
  for (const e of events) out += formatTraceEvent(e) + '\n';
  return out;
}

/** Reads JSONL text back; blank lines are skipped. */
export function parseTrace(text: string): TraceEvent[] {
  const events: TraceEvent[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new Error(`trace line ${i + 1}: not JSON: ${(err as Error).message}`);
    }
    const e = value as TraceEvent;
    if (typeof e !== 'object' || e === null || typeof e.t !== 'number' || typeof e.ev !== 'string') {
      throw new Error(`trace line ${i + 1}: expected an object with numeric "t" and string "ev"`);
    }
    events.push(e);
  }
  return events;
}

/** Longest note value kept as data, in JSON characters; longer ones become a cut string. */
const NOTE_VALUE_CHARS = 200;

/** A note's value as the trace keeps it: a plain JSON copy, or its JSON cut to a string with `…`. */
export function noteValue(value: unknown): unknown {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined; // cycles, BigInt
  }
  if (json === undefined) return String(value);
  return json.length <= NOTE_VALUE_CHARS ? JSON.parse(json) : json.slice(0, NOTE_VALUE_CHARS - 1) + '…';
}
