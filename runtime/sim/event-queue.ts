import { MinHeap } from '../protocol/min-heap.ts';

/** One scheduled happening of a simulation. */
export interface SimEvent {
  /** Virtual time in microseconds. */
  timeUs: number;
  /** Tie-break: events at one time run in the order they were scheduled. */
  seq: number;
  /** The rank it concerns, if a pause of that rank should hold it back (timers, deliveries). */
  heldByPauseOf?: number;
  cancelled?: boolean;
  run(): void;
}

/** Events ordered by (timeUs, seq). */
export class EventQueue extends MinHeap<SimEvent> {
  constructor() {
    super((a, b) => a.timeUs - b.timeUs || a.seq - b.seq);
  }
}
