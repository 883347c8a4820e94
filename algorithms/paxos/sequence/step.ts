/**
 * Sequence Paxos's step: every message and tick of a rank, dispatched to the embedded failure
 * detector and to its roles (acceptor.ts, leader.ts, client.ts); when it wakes; the machine serve()
 * runs, which ends with the farewell once every value is decided here.
 */
import type { Input, Machine, Out } from '../../common/serve.ts';
import { detectorWakeAt, heardFrom, isDetectorTag, stepDetector } from '../../failure-detector.ts';
import { onAccept, onDecide, onPrepare } from './acceptor.ts';
import { adoptDeadClients, pump } from './client.ts';
import { leaderTick, onAccepted, onNack, onPromise, onPropose } from './leader.ts';
import { Tag, type Value } from './messages.ts';
import { decidedLog, learn, persistSequence, type SequenceState } from './state.ts';

export function stepSequence(s: SequenceState, input: Input): [SequenceState, Out[]] {
  const out: Out[] = [];
  const now = input.nowMs;
  if (input.type === 'tick') {
    onTick(s, input, out);
    return [s, out];
  }
  const from = input.source;
  heardFrom(s.detector, from, now);
  if (isDetectorTag(input.tag)) {
    const [, o] = stepDetector(s.detector, input);
    return [s, o];
  }
  const d = input.data as Record<string, unknown>;
  if (input.tag === Tag.Farewell) {
    const log = d.log as Value[];
    if (log.length > decidedLog(s).length) s.final = log;
    learn(s);
    return [s, out];
  }
  if (s.finished) return [s, out];
  const decidedBefore = s.ld;
  switch (input.tag) {
    case Tag.Prepare:
      onPrepare(s, from, d, input, out);
      break;
    case Tag.Promise:
      onPromise(s, from, d, input, out);
      break;
    case Tag.Nack:
      onNack(s, d, input);
      break;
    case Tag.Accept:
      onAccept(s, from, d, out);
      break;
    case Tag.Accepted:
      onAccepted(s, from, d, input, out);
      break;
    case Tag.Decide:
      onDecide(s, d);
      break;
    case Tag.Propose:
      onPropose(s, d, input, out);
      break;
  }
  if (s.ld > decidedBefore) input.note?.('decided', s.va.slice(decidedBefore, s.ld));
  pump(s, now, out);
  return [s, out];
}

function onTick(s: SequenceState, input: Extract<Input, { type: 'tick' }>, out: Out[]): void {
  const now = input.nowMs;
  out.push(...stepDetector(s.detector, input)[1]);
  if (s.finished) return; // serve() announces the log (Farewell) until the run ends
  if (now < s.nextTickMs) return;
  s.nextTickMs = now + s.options.periodMs;
  adoptDeadClients(s, input.failed);
  leaderTick(s, input, out);
  pump(s, now, out);
}

export function sequenceWakeAt(s: SequenceState): number {
  const fd = detectorWakeAt(s.detector);
  if (s.finished) return fd;
  return Math.min(fd, s.nextTickMs);
}

export const sequenceMachine: Machine<SequenceState> = {
  step: stepSequence,
  wakeAtMs: sequenceWakeAt,
  done: () => false,
  persist: persistSequence,
  farewell: { tag: Tag.Farewell, options: (s) => s.options.farewell, outcome: (s) => (s.finished ? { log: decidedLog(s) } : undefined) },
};
