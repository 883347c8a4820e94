import { MinHeap } from '../protocol/min-heap.ts';

/**
 * What an event is, stable across re-executions of one program (systematic exploration picks events
 * by it): the k-th delivery on a link, the k-th timer of a rank's incarnation, the k-th scheduled fault.
 */
export interface EventId {
  kind: 'deliver' | 'timer' | 'fault';
  /** The rank whose state the event touches (the receiver of a delivery, the owner of a timer). */
  rank: number;
  /** A delivery's sender. */
  from?: number;
  /** A timer's incarnation. */
  inc?: number;
  k: number;
  /** The window in which the event could have happened (a delivery: the network's least and greatest latency). */
  earliestUs?: number;
  latestUs?: number;
}

/** The rank whose state an event touches, or −1 for a fault (or an event without identity): it may touch every rank. */
export function eventRank(e: SimEvent): number {
  return e.id && e.id.kind !== 'fault' ? e.id.rank : -1;
}

/** One scheduled happening of a simulation. */
export interface SimEvent {
  /** Virtual time in microseconds. */
  timeUs: number;
  /** Tie-break: events at one time run in the order they were scheduled. */
  seq: number;
  /** The rank it concerns, if a pause of that rank should hold it back (timers, deliveries). */
  heldByPauseOf?: number;
  cancelled?: boolean;
  id?: EventId;
  /** A delivery's alternative: the network loses the message instead (a fault an explorer chooses). */
  lose?: () => void;
  run(): void;
}

/** Events ordered by (timeUs, seq). */
export class EventQueue extends MinHeap<SimEvent> {
  constructor() {
    super(byTimeThenSeq);
  }
}

export function byTimeThenSeq(a: SimEvent, b: SimEvent): number {
  return a.timeUs - b.timeUs || a.seq - b.seq;
}

/** A short stable name of an event, for schedules and reports. */
export function eventLabel(e: SimEvent): string {
  const id = e.id;
  if (!id) return `event ${e.seq}`;
  if (id.kind === 'deliver') return `deliver ${id.from}→${id.rank} #${id.k}`;
  if (id.kind === 'timer') return `timer ${id.rank}.${id.inc} #${id.k}`;
  return `fault #${id.k} at ${id.rank}`;
}
