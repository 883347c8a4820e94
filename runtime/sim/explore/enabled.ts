import { byTimeThenSeq, type EventQueue, type SimEvent } from '../event-queue.ts';
import type { Scheduler } from '../scheduler.ts';

/**
 * Which pending events may go next:
 * - `bounded`: an event whose earliest time is not after the latest time of every pending event (a
 *   message's window is every latency the network could draw; a timer's is its due time, plus the
 *   explorer's timer slack if any): messages may
 *   overtake each other, or a timer that fires within their window, and timeouts keep their meaning;
 * - `async`: any pending event, keeping each rank's timers in their order and the faults in theirs;
 *   a timer goes ahead of an event due before it (one bounded timing would not let it pass) only
 *   while its rank `mayRunAhead`: the explorer gives each rank a budget of such firings, so time
 *   moves forward and an execution of a program that retries on timers ends.
 */
export type TimingModel = 'bounded' | 'async';

/**
 * The latest time an event may happen: a delivery's greatest latency; a timer's due time plus
 * `timerSlackUs`, since a timer is never early but may be late (a loaded machine, a pause of the
 * process): timers of different ranks due within the slack of each other may fire in either order,
 * and a message may still arrive after a timeout that it would have beaten.
 */
export function latestUs(e: SimEvent, timerSlackUs: number): number {
  if (e.id?.kind === 'timer') return e.timeUs + timerSlackUs;
  return Math.max(e.timeUs, e.id?.latestUs ?? e.timeUs);
}

/**
 * The enabled set at this step, in the simulator's own order (by due time, then scheduling order),
 * so index 0 is the event a seeded run would take. With FIFO links, every delivery event of a link
 * hands over the link's oldest message, so only the first of them is offered.
 */
export function enabledEvents(
  queue: EventQueue,
  scheduler: Scheduler,
  timing: TimingModel,
  fifo: boolean,
  timerSlackUs = 0,
  mayRunAhead: (rank: number) => boolean = () => true,
): SimEvent[] {
  for (const e of queue.values().filter((x) => x.cancelled)) queue.remove(e);
  const pending = [...queue.values()].sort(byTimeThenSeq);
  if (pending.length === 0) return [];
  // Events of a paused rank would only be held back: offered only when nothing else is pending.
  const active = pending.filter((e) => unheld(e, scheduler));
  if (active.length === 0) return [pending[0]];
  const dueUs = dueByUs(active, timerSlackUs);
  const seen = new Set<string>();
  let faultSeen = false;
  const enabled: SimEvent[] = [];
  for (const e of active) {
    const id = e.id;
    const ahead = (id?.earliestUs ?? e.timeUs) > dueUs;
    if (timing === 'bounded' && ahead) continue;
    if (id?.kind === 'deliver' && fifo) {
      const link = `${id.from}>${id.rank}`;
      if (seen.has(link)) continue;
      seen.add(link);
    } else if (timing === 'async' && id?.kind === 'timer') {
      const owner = `t${id.rank}.${id.inc}`;
      if (seen.has(owner)) continue;
      seen.add(owner);
      if (ahead && !mayRunAhead(id.rank)) continue;
    } else if (timing === 'async' && (id === undefined || id.kind === 'fault')) {
      if (faultSeen) continue;
      faultSeen = true;
    }
    enabled.push(e);
  }
  return enabled;
}

/** Whether pending event `e` could go next under bounded timing: due no later than every pending event must happen. */
export function onTime(e: SimEvent, queue: EventQueue, scheduler: Scheduler, timerSlackUs = 0): boolean {
  const active = queue.values().filter((x) => !x.cancelled && unheld(x, scheduler));
  return (e.id?.earliestUs ?? e.timeUs) <= dueByUs(active, timerSlackUs);
}

/** Events of a paused rank are held back. */
function unheld(e: SimEvent, scheduler: Scheduler): boolean {
  return e.heldByPauseOf === undefined || !scheduler.isPaused(e.heldByPauseOf);
}

/** The time by which some of these events must have happened: nothing due later may go first. */
function dueByUs(events: readonly SimEvent[], timerSlackUs: number): number {
  let dueUs = Infinity;
  for (const e of events) dueUs = Math.min(dueUs, latestUs(e, timerSlackUs));
  return dueUs;
}
