/**
 * The book's three-process clock scenario (3.2.1 and 3.2.2), generalised to a chain of n ranks:
 *
 *   P1 (rank 0):        A, B, Send(m) to P2, C
 *   P2 (middle ranks):  Recv from the previous rank, B, Send to the next rank, C
 *   P3 (last rank):     A, Recv from the previous rank, B, C
 *
 * n = 3 is exactly the book's figure. n = 2 keeps P1 and P3 (P1 sends m straight to the last
 * rank); n > 3 puts more P2-like ranks in the middle of the chain. n = 1: the one rank plays P1 and
 * sends m to itself, receiving it after C.
 */
import { defineTags, type Communicator } from 'dsmpi';

export const Tag = defineTags('clock-scenario', ['ScenarioMessage']);

/** A clock the scenario drives: a LamportClock or a VectorClock both fit. */
export interface EventClock<T> {
  tick(): T;
  send(): T;
  receive(stamp: T): T;
}

export type ScenarioStep =
  { kind: 'local'; name: string } | { kind: 'send'; name: string; to: number } | { kind: 'recv'; name: string; from: number };

export interface ScenarioEvent<T> {
  rank: number;
  /** Event label as the book writes it: 'A', 'Send(m)', 'Recv(n)'. */
  label: string;
  time: T;
}

/** The book's name for the process a rank plays: P1, P2 or P3 (P2 for every middle rank). */
export function processName(rank: number, n: number): string {
  if (rank === 0) return 'P1';
  return rank === n - 1 ? 'P3' : 'P2';
}

/** The message rank r sends down the chain: the book's m and n, then m3, m4, … */
export function messageName(from: number): string {
  return from === 0 ? 'm' : from === 1 ? 'n' : `m${from + 1}`;
}

/** The steps rank `rank` of `n` performs, in order. */
export function scenarioSteps(rank: number, n: number): ScenarioStep[] {
  if (n === 1) {
    return [
      { kind: 'local', name: 'A' },
      { kind: 'local', name: 'B' },
      { kind: 'send', name: 'm', to: 0 },
      { kind: 'local', name: 'C' },
      { kind: 'recv', name: 'm', from: 0 },
    ];
  }
  if (rank === 0) {
    return [
      { kind: 'local', name: 'A' },
      { kind: 'local', name: 'B' },
      { kind: 'send', name: messageName(0), to: 1 },
      { kind: 'local', name: 'C' },
    ];
  }
  if (rank === n - 1) {
    return [
      { kind: 'local', name: 'A' },
      { kind: 'recv', name: messageName(rank - 1), from: rank - 1 },
      { kind: 'local', name: 'B' },
      { kind: 'local', name: 'C' },
    ];
  }
  return [
    { kind: 'recv', name: messageName(rank - 1), from: rank - 1 },
    { kind: 'local', name: 'B' },
    { kind: 'send', name: messageName(rank), to: rank + 1 },
    { kind: 'local', name: 'C' },
  ];
}

function label(step: ScenarioStep): string {
  if (step.kind === 'local') return step.name;
  return step.kind === 'send' ? `Send(${step.name})` : `Recv(${step.name})`;
}

/**
 * Plays this rank's part over real messages: each send carries the clock's stamp. Notes each
 * event with its timestamp (`Send(m)` 3) and returns this rank's events with them, in order.
 */
export async function runScenario<T>(comm: Communicator, clock: EventClock<T>): Promise<ScenarioEvent<T>[]> {
  const events: ScenarioEvent<T>[] = [];
  for (const step of scenarioSteps(comm.rank, comm.size)) {
    let time: T;
    if (step.kind === 'local') time = clock.tick();
    else if (step.kind === 'send') {
      time = clock.send();
      await comm.send(time, step.to, Tag.ScenarioMessage);
    } else {
      const m = await comm.recv<T>(step.from, Tag.ScenarioMessage);
      time = clock.receive(m.data);
    }
    events.push({ rank: comm.rank, label: label(step), time });
    comm.note(label(step), time);
  }
  return events;
}

/**
 * The same scenario without a network: plays every rank in chain order (a valid causal order) and
 * returns each rank's events. A reference for tests and for n other than 3.
 */
export function replayScenario<T>(n: number, makeClock: (rank: number) => EventClock<T>): ScenarioEvent<T>[][] {
  const inFlight = new Map<string, T>();
  const out: ScenarioEvent<T>[][] = [];
  for (let rank = 0; rank < n; rank++) {
    const clock = makeClock(rank);
    const events: ScenarioEvent<T>[] = [];
    for (const step of scenarioSteps(rank, n)) {
      let time: T;
      if (step.kind === 'local') time = clock.tick();
      else if (step.kind === 'send') {
        time = clock.send();
        inFlight.set(`${rank}->${step.to}`, time);
      } else {
        const stamp = inFlight.get(`${step.from}->${rank}`);
        if (stamp === undefined) throw new Error(`replayScenario: rank ${rank} receives before rank ${step.from} sent`);
        time = clock.receive(stamp);
      }
      events.push({ rank, label: label(step), time });
    }
    out.push(events);
  }
  return out;
}
