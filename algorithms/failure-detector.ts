/**
 * Heartbeat failure detector (book 3.3; the port of failure-detector.c, spec 2.8, without its bugs).
 *
 * Every rank sends Heartbeat to every other rank each `periodMs`. A peer silent for longer than its
 * own timeout is suspected, and the suspicion is announced (Suspect, naming the suspected rank). A
 * message from a suspected peer revises the suspicion and lengthens that peer's timeout by
 * `backoffMs` ("benefit of the doubt"). A rank that hears itself suspected answers Alive to all. The
 * role is a pure `stepDetector(state, input)`; `detectorMain` runs it alone for a bounded time, and
 * leader election and sequence Paxos embed the same state in their own (they own tags 10, 20, 30).
 *
 * Properties (tested in test/algorithms/failure-detector.test.ts): completeness, every crashed rank
 * is eventually suspected by every correct rank; eventual accuracy, once the network behaves (no
 * partition, latency below the timeout) no correct rank stays suspected.
 */
import { defineTags, type Communicator } from 'dsmpi';
import { range, serve, toAll, type Input, type Machine, type Out } from './common/serve.ts';

/** The book's messages (failure-detector.c); the tag registry gives them numbers. */
export const Tag = defineTags('failure-detector', ['Heartbeat', 'Suspect', 'Alive']);

export interface DetectorOptions {
  periodMs: number;
  /** Initial silence before suspecting a peer (the book: 3 periods). */
  timeoutMs: number;
  /** Added to a peer's timeout each time a suspicion of it turns out false. */
  backoffMs: number;
}

export const defaultDetector: DetectorOptions = { periodMs: 10, timeoutMs: 35, backoffMs: 20 };

export interface PeerView {
  lastHeardMs: number;
  timeoutMs: number;
  suspected: boolean;
}

export interface DetectorState {
  rank: number;
  size: number;
  options: DetectorOptions;
  nextBeatMs: number;
  peers: PeerView[];
  /** Suspicions later revised (a count, for reports and tests). */
  falseSuspicions: number;
}

export function startDetector(rank: number, size: number, nowMs: number, options: DetectorOptions = defaultDetector): DetectorState {
  return {
    rank,
    size,
    options,
    nextBeatMs: nowMs,
    peers: range(0, size).map(() => ({ lastHeardMs: nowMs, timeoutMs: options.timeoutMs, suspected: false })),
    falseSuspicions: 0,
  };
}

const others = (s: DetectorState): number[] => range(0, s.size).filter((r) => r !== s.rank);

/** True for the detector's own tags: a composing machine hands these to stepDetector. */
export function isDetectorTag(tag: number): boolean {
  return tag === Tag.Heartbeat || tag === Tag.Suspect || tag === Tag.Alive;
}

/** Ranks this rank suspects now, ascending. */
export function suspects(s: DetectorState): number[] {
  return s.peers.flatMap((p, r) => (p.suspected ? [r] : []));
}

/** The peer `from` showed a sign of life at `nowMs` (any message of it counts). */
export function heardFrom(s: DetectorState, from: number, nowMs: number): void {
  const p = s.peers[from];
  if (from === s.rank || !p) return;
  p.lastHeardMs = Math.max(p.lastHeardMs, nowMs);
  if (p.suspected) {
    p.suspected = false;
    p.timeoutMs += s.options.backoffMs;
    s.falseSuspicions++;
  }
}

export function stepDetector(s: DetectorState, input: Input): [DetectorState, Out[]] {
  const out: Out[] = [];
  if (input.type === 'message') {
    if (s.peers[input.source]?.suspected) input.note?.('trust', input.source);
    heardFrom(s, input.source, input.nowMs);
    if (input.tag === Tag.Suspect && (input.data as { rank: number }).rank === s.rank) {
      // Someone thinks this rank is dead: refute at once rather than wait for the next heartbeat.
      out.push(...toAll(others(s), Tag.Alive, { rank: s.rank }));
    }
    return [s, out];
  }
  const now = input.nowMs;
  if (now >= s.nextBeatMs) {
    out.push(...toAll(others(s), Tag.Heartbeat, null));
    // Skip beats missed while paused rather than sending a burst.
    s.nextBeatMs = Math.max(s.nextBeatMs + s.options.periodMs, now + 1);
  }
  s.peers.forEach((p, r) => {
    if (r === s.rank || p.suspected || now <= p.lastHeardMs + p.timeoutMs) return;
    p.suspected = true;
    input.note?.('suspect', r);
    out.push(...toAll(others(s), Tag.Suspect, { rank: r }));
  });
  return [s, out];
}

/** When the detector next needs a tick: the next beat, or the next peer timeout. */
export function detectorWakeAt(s: DetectorState): number {
  let at = s.nextBeatMs;
  s.peers.forEach((p, r) => {
    if (r !== s.rank && !p.suspected) at = Math.min(at, p.lastHeardMs + p.timeoutMs + 1);
  });
  return at;
}

// ---- the detector on its own: a bounded run ----

export interface DetectorRun {
  detector: DetectorState;
  endMs: number;
  finished: boolean;
}

export const detectorMachine: Machine<DetectorRun> = {
  step(s, input) {
    if (input.type === 'tick' && input.nowMs >= s.endMs) {
      s.finished = true;
      return [s, []];
    }
    const [, out] = stepDetector(s.detector, input);
    return [s, out];
  },
  wakeAtMs: (s) => Math.min(detectorWakeAt(s.detector), s.endMs),
  done: (s) => s.finished,
};

export interface DetectorReport {
  rank: number;
  suspects: number[];
  falseSuspicions: number;
}

/**
 * Runs the detector for `runMs` (a bounded run), then returns what this rank suspects at the end.
 * Prints nothing; examples/failure-detector.ts prints the report.
 */
export async function detectorMain(comm: Communicator, runMs: number, options: DetectorOptions = defaultDetector): Promise<DetectorReport> {
  const start = comm.clock.now();
  const detector = startDetector(comm.rank, comm.size, start, options);
  await serve(comm, detectorMachine, { detector, endMs: start + runMs, finished: false });
  return { rank: comm.rank, suspects: suspects(detector), falseSuspicions: detector.falseSuspicions };
}
