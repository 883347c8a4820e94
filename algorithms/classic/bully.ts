/**
 * The bully election (Garcia-Molina, 1982), for a synchronous system where crashes are detected by
 * timeouts and every rank knows every id (here: the rank; the highest live rank must win).
 * A rank that suspects the coordinator sends Election to every higher rank. If none Answers within
 * `answerTimeoutMs`, it is the coordinator and sends Coordinator to every lower rank. If one answers,
 * it waits `coordinatorTimeoutMs` for a Coordinator and starts over when none comes. A rank that gets
 * an Election from a lower rank Answers it and starts its own election (the bully).
 *
 * The role is a pure step function run by the shared serve loop; it ends at `endAtMs`. Two switches
 * reproduce crashes without killing processes (for runs under dsrun): `down` ranks are silent from
 * the start, `crashBeforeAnnouncing` ranks go silent at the moment they would announce themselves.
 * Safety (one leader, the highest live rank) needs the timeouts to exceed the real round trip: with
 * longer delays two ranks can both announce.
 */
import { defineTags, type Communicator } from 'dsmpi';
import { serve, type Input, type Machine, type Out } from '../common/serve.ts';
import type { SentCounts } from './common.ts';

export const Tag = defineTags('bully', ['Election', 'Answer', 'Coordinator']);

export interface BullyOptions {
  /** Ranks that notice the coordinator is gone and start an election at time 0 (default [0]). */
  starters?: number[];
  answerTimeoutMs?: number;
  coordinatorTimeoutMs?: number;
  /** Every rank stops at this time since its start and reports its leader (default 30 × answer timeout). */
  runForMs?: number;
  down?: number[];
  crashBeforeAnnouncing?: number[];
}

export interface BullyState {
  rank: number;
  size: number;
  answerTimeoutMs: number;
  coordinatorTimeoutMs: number;
  endAtMs: number;
  silent: boolean;
  crashBeforeAnnouncing: boolean;
  phase: 'starting' | 'idle' | 'waiting-answers' | 'waiting-coordinator';
  deadlineMs: number | undefined;
  leader: number | undefined;
  done: boolean;
  sent: SentCounts;
}

function startElection(s: BullyState, nowMs: number, out: Out[]): void {
  if (s.rank === s.size - 1) {
    announce(s, out);
    return;
  }
  s.phase = 'waiting-answers';
  s.deadlineMs = nowMs + s.answerTimeoutMs;
  for (let r = s.rank + 1; r < s.size; r++) out.push({ to: r, tag: Tag.Election, data: null });
}

function announce(s: BullyState, out: Out[]): void {
  if (s.crashBeforeAnnouncing) {
    s.silent = true;
    s.deadlineMs = undefined;
    return;
  }
  s.leader = s.rank;
  s.phase = 'idle';
  s.deadlineMs = undefined;
  for (let r = 0; r < s.rank; r++) out.push({ to: r, tag: Tag.Coordinator, data: null });
}

export function stepBully(s: BullyState, input: Input): [BullyState, Out[]] {
  const out: Out[] = [];
  if (input.nowMs >= s.endAtMs) s.done = true;
  if (s.silent || s.done) return [s, out];
  const before = { phase: s.phase, leader: s.leader };
  if (input.type === 'tick') {
    if (s.deadlineMs !== undefined && input.nowMs >= s.deadlineMs) {
      if (s.phase === 'waiting-answers') announce(s, out);
      else startElection(s, input.nowMs, out);
    }
  } else if (input.tag === Tag.Election) {
    out.push({ to: input.source, tag: Tag.Answer, data: null });
    if (s.phase === 'idle' || s.phase === 'starting') startElection(s, input.nowMs, out);
  } else if (input.tag === Tag.Answer) {
    if (s.phase === 'waiting-answers') {
      s.phase = 'waiting-coordinator';
      s.deadlineMs = input.nowMs + s.coordinatorTimeoutMs;
    }
  } else if (input.tag === Tag.Coordinator) {
    if (input.source < s.rank) startElection(s, input.nowMs, out);
    else {
      s.leader = input.source;
      s.phase = 'idle';
      s.deadlineMs = undefined;
    }
  }
  for (const m of out) {
    const name = m.tag === Tag.Election ? 'Election' : m.tag === Tag.Answer ? 'Answer' : 'Coordinator';
    s.sent[name]++;
  }
  if (s.phase === 'waiting-answers' && before.phase !== 'waiting-answers') input.note?.('election');
  if (s.leader !== before.leader) input.note?.('coordinator', s.leader);
  return [s, out];
}

export const bullyMachine: Machine<BullyState> = {
  step: stepBully,
  wakeAtMs: (s) => (s.deadlineMs === undefined || s.silent ? s.endAtMs : Math.min(s.deadlineMs, s.endAtMs)),
  done: (s) => s.done,
};

export interface BullyResult {
  rank: number;
  /** undefined for a silent rank. */
  leader: number | undefined;
  sent: SentCounts;
}

export async function bully(comm: Communicator, options: BullyOptions = {}): Promise<BullyResult> {
  const answerTimeoutMs = options.answerTimeoutMs ?? 10;
  const now = comm.clock.now();
  const s: BullyState = {
    rank: comm.rank,
    size: comm.size,
    answerTimeoutMs,
    coordinatorTimeoutMs: options.coordinatorTimeoutMs ?? 3 * answerTimeoutMs,
    endAtMs: now + (options.runForMs ?? 30 * answerTimeoutMs),
    silent: (options.down ?? []).includes(comm.rank),
    crashBeforeAnnouncing: (options.crashBeforeAnnouncing ?? []).includes(comm.rank),
    phase: 'idle',
    deadlineMs: undefined,
    leader: undefined,
    done: false,
    sent: { Election: 0, Answer: 0, Coordinator: 0 },
  };
  if ((options.starters ?? [0]).includes(comm.rank)) {
    s.phase = 'starting';
    s.deadlineMs = now;
  }
  const end = await serve(comm, bullyMachine, s);
  return { rank: comm.rank, leader: end.silent ? undefined : end.leader, sent: end.sent };
}
