/**
 * Single-decree Paxos's step: every message and tick of a rank, dispatched to its role (client,
 * proposer.ts, acceptor.ts, learner.ts, telemetry.ts), with the trace notes of what changed; when it
 * wakes; the machine serve() runs, which ends with the farewell once the rank knows the decision.
 */
import { toAll, type Input, type Machine, type Out } from '../../common/serve.ts';
import type { Ballot } from '../ballot.ts';
import { onAccept, onPrepare } from './acceptor.ts';
import { onAcceptedByLearner, onRestored } from './learner.ts';
import { Tag, type Accepted, type Snapshot } from './messages.ts';
import { onAcceptedByProposer, onNack, onPromise, onPropose, proposerTick } from './proposer.ts';
import { decide, persistPaxos, type PaxosState } from './state.ts';
import { onRestore, onRevert, onSnapshot } from './telemetry.ts';

/** The state machine of every role; `input` is one message or a tick. */
export function stepPaxos<V>(s: PaxosState<V>, input: Input): [PaxosState<V>, Out[]] {
  s.nowMs = input.nowMs;
  const out: Out[] = [];
  const before = { ballot: s.proposer.ballot, decided: s.decided };
  if (input.type === 'tick') {
    onTick(s, input.nowMs, input.random, out);
    noteProgress(s, before, input);
    return [s, out];
  }
  const from = input.source;
  const m = { tag: input.tag, ...(input.data as object) } as { tag: number; ballot: Ballot; value: V; [k: string]: unknown };
  switch (m.tag) {
    case Tag.Decide:
      decide(s, m.value);
      break;
    case Tag.Propose:
      onPropose(s, m.value, input, out);
      break;
    case Tag.Prepare:
      onPrepare(s, from, m.ballot, input, out);
      break;
    case Tag.Accept:
      onAccept(s, from, m.ballot, m.value, input, out);
      break;
    case Tag.Promise:
      onPromise(s, from, m.ballot, m.accepted as Accepted<V> | null, input, out);
      break;
    case Tag.Accepted:
      if (s.role === 'learner') onAcceptedByLearner(s, from, m.ballot, m.value, out);
      else if (s.role === 'proposer') onAcceptedByProposer(s, from, m.ballot, m.value);
      break;
    case Tag.Nack:
      onNack(s, m.ballot, m.promised as Ballot, input, out);
      break;
    case Tag.Snapshot:
      onSnapshot(s, input.data as Snapshot<V>);
      break;
    case Tag.Revert:
      onRevert(s, m.ballot);
      break;
    case Tag.Restore:
      onRestore(s, from, out);
      break;
    case Tag.Restored:
      onRestored(s, from, m.snapshot as Snapshot<V> | null);
      break;
  }
  noteProgress(s, before, input);
  return [s, out];
}

/** Notes what a step changed for a proposer or a learner: a new ballot (phase 1 starts), a decision. */
function noteProgress<V>(s: PaxosState<V>, before: Pick<PaxosState<V>, 'decided'> & { ballot: Ballot }, input: Input): void {
  if (s.proposer.ballot !== before.ballot) input.note?.('prepare', s.proposer.ballot);
  if (!before.decided && s.decided) input.note?.('decided', s.decided.value);
}

function onTick<V>(s: PaxosState<V>, nowMs: number, random: number, out: Out[]): void {
  if (s.decided) return; // serve() announces the decision (Decide) until the run ends
  // A client resends its value until it knows the decision.
  if (s.role === 'client' && s.clientValue !== undefined && nowMs >= s.nextSendMs) {
    out.push(...toAll(s.layout.proposers, Tag.Propose, { value: s.clientValue }));
    s.nextSendMs = nowMs + s.options.resendMs;
  }
  if (s.role === 'proposer') proposerTick(s, nowMs, random, out);
}

export function paxosWakeAt<V>(s: PaxosState<V>): number | undefined {
  if (s.decided) return undefined;
  if (s.role === 'client') return s.nextSendMs;
  if (s.role === 'proposer' && s.proposer.value !== undefined) return s.proposer.deadlineMs;
  return undefined;
}

export function paxosMachine<V>(): Machine<PaxosState<V>> {
  return {
    step: stepPaxos,
    wakeAtMs: paxosWakeAt,
    done: () => false,
    persist: persistPaxos,
    farewell: { tag: Tag.Decide, options: (s) => s.options.farewell, outcome: (s) => s.decided && { value: s.decided.value } },
  };
}
