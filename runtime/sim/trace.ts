import { formatTrace, type TraceEvent } from '../protocol/trace-event.ts';

/** Collects a run's trace events in order. */
export class TraceRecorder {
  readonly events: TraceEvent[] = [];

  record(event: TraceEvent): void {
    for (const key of Object.keys(event) as Array<keyof TraceEvent>) if (event[key] === undefined) delete event[key];
    this.events.push(event);
  }

  jsonl(): string {
    return formatTrace(this.events);
  }
}
