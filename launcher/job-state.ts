import type { TraceEvent } from '../runtime/protocol/trace-event.ts';
import type { KillSpec, PauseSpec } from './fault-spec.ts';

/**
 * The job's state machine: what dsrun knows of its ranks and what it decides from it (who failed
 * first, when to abort, when time 0 is, when the job has ended). `step` is pure: the clock, the
 * timers, the signals and the ranks' processes are the shell's (launcher/job.ts), which feeds each
 * happening in as an event and carries out the actions that come back, in order.
 */

/** Exit codes of dsrun itself (a failing rank's own code is passed through). Documented in docs/dsrun.md. */
export const ExitCode = {
  ok: 0,
  usage: 2,
  timeout: 124,
  launchFailed: 125,
} as const;

/** How long ranks get after SIGTERM before SIGKILL. */
export const KILL_GRACE_MS = 2000;

/** What the job was asked to do, fixed for its whole run. */
export interface JobPlan {
  np: number;
  timeoutSec?: number;
  kill: readonly KillSpec[];
  pause: readonly PauseSpec[];
}

export interface RankFacts {
  /** Registered with the coordinator (said hello). */
  readonly registered: boolean;
  /** Its program is done (or it retired): the rank leaves the job normally. */
  readonly done: boolean;
  readonly exited: boolean;
  /** Asked to survive the failures of others (run(main, { surviveFailures: true })). */
  readonly survive: boolean;
  /** The launcher has already traced this rank's end (--kill, heartbeat). */
  readonly crashTraced: boolean;
  /** When the launcher saw the process end (epoch ms). */
  readonly exitedAt?: number;
  /** Reason sent by the rank itself (uncaught error or abort()), or the launcher's for killing it. */
  readonly abortReason?: string;
  readonly abortCode?: number;
}

export interface Failure {
  /** -1: the job was stopped by a signal to dsrun. */
  rank: number;
  code: number;
  reason: string;
}

export interface JobState {
  readonly plan: JobPlan;
  readonly ranks: readonly RankFacts[];
  /**
   * The job's time 0 (epoch ms): when every rank has registered, so start-up time does not shift
   * the faults. Until then, the time the ranks were started.
   */
  readonly t0: number;
  readonly started: boolean;
  /** The ranks have been told the job is finished (once). */
  readonly finished: boolean;
  /** The job is being stopped: no new failure counts and no new rank or fault starts. */
  readonly ending: boolean;
  readonly timedOut: boolean;
  /** The first failure, which decides dsrun's exit code. */
  readonly failure?: Failure;
  /** Deaths the survivors asked to survive. */
  readonly survived: ReadonlyArray<{ rank: number; reason: string }>;
  /** Indexes of the --kill and --pause flags carried out. */
  readonly firedKills: readonly number[];
  readonly firedPauses: readonly number[];
}

/** What a blocked rank waits on, as its status answer says. */
export type Waiting = ReadonlyArray<{ what: string; forMs: number }>;

export type JobEvent =
  /** The ranks are being started (time 0 until every rank has registered). */
  | { type: 'launch' }
  /** A rank's process, thread or remote child was started (the job's ranks, and comm.spawn()'s). */
  | { type: 'started'; rank: number }
  | { type: 'registered'; rank: number; survive: boolean }
  /** The rank's program returned, or it called comm.retire(). */
  | { type: 'done'; rank: number }
  /** The rank reported an uncaught error or called abort(). */
  | { type: 'aborted'; rank: number; code: number; reason: string }
  /** The rank answered no heartbeat for `silentMs`. */
  | { type: 'silent'; rank: number; silentMs: number }
  | { type: 'startFailed'; rank: number; message: string }
  /** `code`: the exit code, 128 + the signal's number when a signal ended it. */
  | { type: 'exited'; rank: number; code: number; signal: string | null; lostReason?: string }
  /** A --kill or --pause flag (by index) is due, or a pause is over. */
  | { type: 'killDue'; index: number }
  | { type: 'pauseDue'; index: number }
  | { type: 'resumeDue'; index: number }
  | { type: 'timeout' }
  /** What each running rank waits on (undefined: no answer), asked for by `askStatus`. */
  | { type: 'statuses'; reports: ReadonlyArray<readonly [number, Waiting | undefined]> }
  /** The ranks told to stop have had their grace period. */
  | { type: 'graceOver' }
  /** dsrun itself got SIGINT or SIGTERM; `code` is 128 + its number. */
  | { type: 'signal'; signal: string; code: number };

export type JobAction =
  /** A line on stderr after `dsrun: `. */
  | { do: 'log'; line: string }
  /** Text on stderr as it is. */
  | { do: 'write'; text: string }
  /** An event of the launcher's own for the merged trace. */
  | { do: 'trace'; event: TraceEvent }
  | { do: 'signal'; rank: number; signal: 'SIGTERM' | 'SIGKILL' | 'SIGSTOP' | 'SIGCONT' }
  /** Tell the other ranks, through the coordinator, that the rank is lost. */
  | { do: 'announceLost'; rank: number; reason: string }
  /** Every rank has registered: let them start their programs at time 0. */
  | { do: 'start'; t0: number }
  /** Every rank is done or gone: the coordinator tells them the job is finished. */
  | { do: 'finish' }
  /** Feed `event` back at epoch ms `time` (never earlier), or `ms` from now. */
  | { do: 'at'; time: number; event: JobEvent }
  | { do: 'after'; ms: number; event: JobEvent }
  /** Ask these ranks what they wait on, then feed the answers back as `statuses`. */
  | { do: 'askStatus'; ranks: number[] }
  /** Every rank has exited: the job is over. */
  | { do: 'end' };

export type Step = readonly [JobState, readonly JobAction[]];

export function newJob(plan: JobPlan, t0: number): JobState {
  return { plan, ranks: [], t0, started: false, finished: false, ending: false, timedOut: false, survived: [], firedKills: [], firedPauses: [] };
}

/** The job's next state and what to do, for `event` happening at epoch ms `now`. */
export function step(job: JobState, event: JobEvent, now: number): Step {
  switch (event.type) {
    case 'launch':
      return [{ ...job, t0: now }, []];
    case 'started':
      return [withRank(job, event.rank, FRESH), []];
    case 'registered':
      return registered(job, event.rank, event.survive, now);
    case 'done':
      return done(job, event.rank);
    case 'aborted':
      return fail(
        withRank(job, event.rank, { abortReason: event.reason, abortCode: event.code }),
        event.rank,
        event.code,
        event.reason,
        false,
      );
    case 'silent':
      return silent(job, event.rank, event.silentMs, now);
    case 'startFailed':
      return then([withRank(job, event.rank, { exited: true }), [log(`cannot start rank ${event.rank}: ${event.message}`)]], (j) =>
        fail(j, event.rank, ExitCode.launchFailed, event.message, false),
      );
    case 'exited':
      return exited(job, event, now);
    case 'killDue':
      return killDue(job, event.index, now);
    case 'pauseDue':
      return pauseDue(job, event.index, now);
    case 'resumeDue':
      return resumeDue(job, event.index, now);
    case 'timeout':
      return timeout(job);
    case 'statuses':
      return then([job, event.reports.flatMap(([rank, waiting]) => statusLines(rank, waiting).map(log))], stopAll);
    case 'graceOver':
      return [job, live(job).map((rank) => signal(rank, 'SIGKILL'))];
    case 'signal':
      return then(
        [
          { ...job, ending: true, failure: job.failure ?? { rank: -1, code: event.code, reason: event.signal } },
          [log(`${event.signal}: stopping the job`)],
        ],
        stopAll,
      );
  }
}

/** World ranks whose process has not exited. */
export function live(job: JobState): number[] {
  return job.ranks.flatMap((r, i) => (r.exited ? [] : [i]));
}

const FRESH: RankFacts = { registered: false, done: false, exited: false, survive: false, crashTraced: false };

function withRank(job: JobState, rank: number, facts: Partial<RankFacts>): JobState {
  // slice() rather than spreading: a rank that failed to start leaves a hole, which every() skips.
  const ranks = job.ranks.slice();
  ranks[rank] = { ...ranks[rank], ...facts };
  return { ...job, ranks };
}

/** Runs `next` on the state `first` left, joining their actions in order. */
function then(first: Step, ...next: Array<(job: JobState) => Step>): Step {
  return next.reduce<Step>(([job, actions], f) => {
    const [after, more] = f(job);
    return [after, [...actions, ...more]];
  }, first);
}

const log = (line: string): JobAction => ({ do: 'log', line });
const signal = (rank: number, name: 'SIGTERM' | 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): JobAction => ({ do: 'signal', rank, signal: name });
const trace = (event: TraceEvent): JobAction => ({ do: 'trace', event });

function registered(job: JobState, rank: number, survive: boolean, now: number): Step {
  const next = withRank(job, rank, { survive, registered: true });
  return rank < job.plan.np ? startIfAllRegistered(next, now) : [next, []];
}

/**
 * Time 0: every rank of the job has registered, or ended before it could (it is announced lost,
 * or ran no program). The ranks start their main then, so none waits for ever on one that died;
 * --kill and --pause count from then.
 */
function startIfAllRegistered(job: JobState, now: number): Step {
  if (job.started || job.ending) return [job, []];
  const accounted = job.ranks.slice(0, job.plan.np).filter((r) => r?.registered || r?.exited).length;
  if (accounted < job.plan.np) return [job, []];
  const faults: JobAction[] = [
    ...job.plan.kill.map((k, index): JobAction => ({ do: 'at', time: now + k.atMs, event: { type: 'killDue', index } })),
    ...job.plan.pause.map((p, index): JobAction => ({ do: 'at', time: now + p.atMs, event: { type: 'pauseDue', index } })),
  ];
  return [{ ...job, started: true, t0: now }, [{ do: 'start', t0: now }, ...faults]];
}

function done(job: JobState, rank: number): Step {
  return finishIfSettled(withRank(job, rank, { done: true }));
}

/** Once every rank is done or gone, the coordinator tells the ranks the job is finished: once. */
function finishIfSettled(job: JobState): Step {
  if (job.finished || job.ending || !allSettled(job)) return [job, []];
  return [{ ...job, finished: true }, [{ do: 'finish' }]];
}

/** Every rank is done or gone. */
function allSettled(job: JobState): boolean {
  return job.ranks.every((r) => r.done || r.exited);
}

/** Records the first failure and aborts the job, unless it is a death every survivor asked to survive. */
function fail(job: JobState, rank: number, code: number, reason: string, deathOnly: boolean): Step {
  if (job.ending) return [job, []];
  const survivors = live(job).filter((r) => r !== rank);
  if (deathOnly && survivors.length > 0 && survivors.every((r) => job.ranks[r].survive)) {
    return [{ ...job, survived: [...job.survived, { rank, reason }] }, []];
  }
  return stopAll({ ...job, failure: job.failure ?? { rank, code, reason }, ending: true });
}

/** SIGTERM to every running rank, SIGKILL to those still running after the grace period. */
function stopAll(job: JobState): Step {
  return [job, [...live(job).map((rank) => signal(rank, 'SIGTERM')), { do: 'after', ms: KILL_GRACE_MS, event: { type: 'graceOver' } }]];
}

function silent(job: JobState, rank: number, silentMs: number, now: number): Step {
  if (job.ranks[rank].exited || job.ending) return [job, []];
  // Only ranks that survive failures act on a lost peer; without them a silent rank may just be
  // computing, and --timeout is the tool for a job that hangs.
  if (!job.ranks.some((r, i) => i !== rank && !r.exited && r.survive)) return [job, []];
  const reason = `no heartbeat for ${(silentMs / 1000).toFixed(1)} s (stopped, or busy in a synchronous loop)`;
  return [
    withRank(job, rank, { abortReason: reason, crashTraced: true }),
    [
      log(`rank ${rank}: ${reason}; declared lost`),
      trace({ t: now, ev: 'crash', rank, reason: `declared lost: ${reason}` }),
      { do: 'announceLost', rank, reason },
      signal(rank, 'SIGKILL'),
    ],
  ];
}

function exited(job: JobState, event: Extract<JobEvent, { type: 'exited' }>, now: number): Step {
  const { rank } = event;
  const ended = withRank(job, rank, { exited: true, exitedAt: now });
  let first: Step = [ended, []];
  if (event.code !== 0 && !job.ending) first = died(ended, event);
  // Ended without telling the coordinator (a program that never called run()): count it done.
  else if (!job.ranks[rank].done && !job.ending) first = [withRank(ended, rank, { done: true }), []];
  return then(first, (j) => (rank < j.plan.np ? startIfAllRegistered(j, now) : [j, []]), settle);
}

/** A rank ended with a non-zero code while the job ran: the others hear it is lost, and the job fails unless they survive it. */
function died(job: JobState, event: Extract<JobEvent, { type: 'exited' }>): Step {
  const { rank, code } = event;
  const r = job.ranks[rank];
  const reason = r.abortReason ?? event.lostReason ?? (event.signal ? `killed by ${event.signal}` : `exited with code ${code}`);
  const traced = r.crashTraced || r.abortReason !== undefined;
  const actions: JobAction[] = [
    ...(traced ? [] : [trace({ t: r.exitedAt!, ev: 'crash', rank, reason })]),
    { do: 'announceLost', rank, reason },
  ];
  return then([withRank(job, rank, { crashTraced: true }), actions], (j) => fail(j, rank, r.abortCode ?? code, reason, true));
}

/** After an exit: the survivors may all be done already (a lost rank's exit can come after their `done`); the job ends with its last process. */
function settle(job: JobState): Step {
  const [next, actions] = finishIfSettled(job);
  return [next, job.ranks.every((r) => r.exited) ? [...actions, { do: 'end' }] : actions];
}

function killDue(job: JobState, index: number, now: number): Step {
  const k = job.plan.kill[index];
  if (job.ranks[k.rank].exited || job.ending) return [job, []];
  const killed = withRank(job, k.rank, { abortReason: `killed by SIGKILL (--kill ${k.rank}@${k.atMs}ms)`, crashTraced: true });
  return [
    { ...killed, firedKills: [...job.firedKills, index] },
    [trace({ t: now, ev: 'crash', rank: k.rank, reason: 'kill' }), signal(k.rank, 'SIGKILL')],
  ];
}

function pauseDue(job: JobState, index: number, now: number): Step {
  const p = job.plan.pause[index];
  if (job.ranks[p.rank].exited || job.ending) return [job, []];
  return [
    { ...job, firedPauses: [...job.firedPauses, index] },
    [
      trace({ t: now, ev: 'pause', rank: p.rank, untilMs: Math.round(now - job.t0 + p.forMs) }),
      signal(p.rank, 'SIGSTOP'),
      { do: 'after', ms: p.forMs, event: { type: 'resumeDue', index } },
    ],
  ];
}

function resumeDue(job: JobState, index: number, now: number): Step {
  const rank = job.plan.pause[index].rank;
  if (job.ranks[rank].exited) return [job, []];
  return [job, [trace({ t: now, ev: 'resume', rank }), signal(rank, 'SIGCONT')]];
}

/** --timeout: report what each running rank waits on, then stop them; dsrun exits with 124 even if the job was already ending. */
function timeout(job: JobState): Step {
  if (job.ending) return [{ ...job, timedOut: true }, []];
  return [
    { ...job, timedOut: true, ending: true },
    [log(`timeout after ${job.plan.timeoutSec} s; what each rank still running waits on:`), { do: 'askStatus', ranks: live(job) }],
  ];
}

function statusLines(rank: number, waiting: Waiting | undefined): string[] {
  if (waiting === undefined) return [`  rank ${rank}: no answer (busy in a synchronous loop, or not started)`];
  if (waiting.length === 0) return [`  rank ${rank}: not blocked in a dsmpi operation`];
  return waiting.map((w) => `  rank ${rank}: ${w.what} for ${(w.forMs / 1000).toFixed(1)} s`);
}
