import type { Buffer } from 'node:buffer';
import { spawn, type ChildProcess } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { nanoid } from 'nanoid';
import { keyToText, randomKey } from '../runtime/protocol/keys.ts';
import { epochMs } from '../runtime/protocol/epoch-clock.ts';
import { Env, type NetworkFaults } from '../runtime/protocol/rendezvous.ts';
import type { TraceEvent } from '../runtime/protocol/trace-event.ts';
import type { KillSpec, PauseSpec } from './fault-spec.ts';
import { Coordinator, type CoordinatorEvents } from './coordinator.ts';
import { pipeLines } from './line-prefixer.ts';
import { DynamicRanks } from './dynamic-ranks.ts';
import type { RankSpawner } from './spawner.ts';
import { ExitCode, newJob, step, type JobAction, type JobEvent, type JobState } from './job-state.ts';
import { outcome } from './job-outcome.ts';
import { prepareProgram, type JobProgram } from './job-program.ts';
import { jobEnvironment } from './job-env.ts';
import { JobTimers } from './job-timers.ts';
import { JobTrace } from './job-trace.ts';
import { makeLocalLinksDir, removeLocalLinksDir } from './local-links.ts';

export { ExitCode } from './job-state.ts';

export interface JobOptions {
  np: number;
  program: string;
  args: string[];
  /** Kill the job after this many seconds, reporting what each rank waits on. */
  timeoutSec?: number;
  seed: number;
  /** The command line that replays the job (traced as the trace's first event). */
  command?: string;
  /** Extra environment for every rank (-x). */
  env: Record<string, string>;
  /** No `[rank r]` prefixes. */
  quiet: boolean;
  /** Compile once with esbuild (default) instead of loading TypeScript in every rank. */
  bundle: boolean;
  maxPayload?: number;
  /** Bytes of one sender's unmatched point-to-point messages a rank keeps before holding it back. */
  recvBufferBytes?: number;
  /** Heartbeat interval in ms (0: none); a rank silent for `heartbeatMisses` intervals is declared lost. */
  heartbeatMs?: number;
  heartbeatMisses?: number;
  /** --kill and --pause: carried out by dsrun with signals. */
  kill?: KillSpec[];
  pause?: PauseSpec[];
  /** --drop, --delay, --partition: applied by each rank's transport to what it sends. */
  network?: NetworkFaults;
  /** --trace: the merged JSONL trace is written here. */
  tracePath?: string;
  /** --summary: print messages and bytes per rank and per tag at the end (traces the job). */
  summary?: boolean;
  /**
   * --poll / --no-poll: ranks poll for messages while they wait (DSMPI_POLL); undefined: poll when the
   * ranks do not outnumber the cores of their host.
   */
  poll?: boolean;
  /** Ranks started through agents (launcher/remote-job.ts) or as threads (thread-ranks.ts) instead of as local children. */
  spawner?: RankSpawner;
}

const log = (line: string): void => {
  process.stderr.write(`dsrun: ${line}\n`);
};

/** Runs a job to its end and returns dsrun's exit code. Never leaves a child behind. */
export async function runJob(options: JobOptions): Promise<number> {
  const jobId = options.spawner?.jobId ?? nanoid(12);
  const program = await prepareProgram(options, jobId, log);
  if (!program) return ExitCode.launchFailed;
  const job = new Job(options, jobId, program);
  await job.launch();
  const endedAt = await job.ended;
  await job.close();
  job.trace?.finish(job.state, job.launcherEvents, endedAt, log);
  const { code, report } = outcome(job.state, endedAt);
  for (const action of report) job.carry(action);
  return code;
}

/**
 * The I/O around the job's state machine (launcher/job-state.ts): starts the ranks (processes,
 * threads or agents' children) and the coordinator, turns what they report, the timers and dsrun's
 * own signals into events, and carries out the actions the machine answers with.
 */
class Job {
  state: JobState;
  readonly trace: JobTrace | undefined;
  /** Events seen by the launcher (kills, pauses, deaths), timed in epoch ms like the ranks' files. */
  readonly launcherEvents: TraceEvent[] = [];
  /** Resolves with the epoch ms at which the last rank exited. */
  readonly ended: Promise<number>;
  private resolveEnd: (at: number) => void = () => {};
  private readonly key: Buffer;
  private readonly children: ChildProcess[] = [];
  private readonly outputs: Array<Promise<void>> = [];
  private readonly timers = new JobTimers();
  private coordinator!: Coordinator;
  private env: NodeJS.ProcessEnv = {};
  /** Where the ranks listen on Unix sockets too (local-links.ts): process ranks on this machine only. */
  private localLinks: string | undefined;
  private dynamicRanks!: DynamicRanks;
  /** launch() is still starting the job's ranks (startRanks()). */
  private startingRanks = true;
  private readonly onSignal = (signal: NodeJS.Signals): void =>
    this.dispatch({ type: 'signal', signal, code: 128 + (osConstants.signals[signal] ?? 1) });

  constructor(
    private readonly options: JobOptions,
    private readonly jobId: string,
    private readonly program: JobProgram,
  ) {
    this.key = options.spawner?.ranksKey ?? randomKey();
    this.trace = JobTrace.open(options);
    this.state = newJob(
      { np: options.np, timeoutSec: options.timeoutSec, kill: options.kill ?? [], pause: options.pause ?? [] },
      epochMs(),
    );
    this.ended = new Promise((resolve) => (this.resolveEnd = resolve));
  }

  /** Starts the coordinator and the job's ranks, the --timeout timer, and listens for SIGINT and SIGTERM. */
  async launch(): Promise<void> {
    const { options, jobId } = this;
    this.coordinator = await Coordinator.start(
      {
        jobId,
        key: this.key,
        size: options.np,
        host: options.spawner?.coordinatorHost,
        tls: options.spawner?.coordinatorTls,
        heartbeatMs: options.heartbeatMs,
        heartbeatMisses: options.heartbeatMisses,
      },
      this.coordinatorEvents(),
    );
    this.env = jobEnvironment(options, { jobId, token: keyToText(this.key), rendezvous: this.coordinator.url });
    // A directory of this job's own, even in a rank's environment that names one (a dsrun inside a
    // rank); -x DSMPI_LOCAL_LINKS=… stands.
    if (!options.spawner && options.env[Env.localLinks] === undefined) {
      this.localLinks = makeLocalLinksDir();
      this.env[Env.localLinks] = this.localLinks ?? '';
    }
    this.dispatch({ type: 'launch' });
    this.dynamicRanks = new DynamicRanks({
      np: options.np,
      jobId,
      program: options.program,
      args: options.args,
      bundle: options.bundle,
      entry: this.program.entry,
      nodeArgs: this.program.nodeArgs,
      start: (rank, env, argv) => this.startRank(rank, env, argv),
      allow: (total) => this.coordinator.allowRanks(total),
      ending: () => this.state.ending,
    });
    if (options.timeoutSec !== undefined) this.timers.after(options.timeoutSec * 1000, () => this.dispatch({ type: 'timeout' }));
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
    void this.startRanks();
  }

  /**
   * Starts the job's ranks one per turn of the event loop, so that the coordinator answers the
   * handshakes of the first ranks while the others start (starting a process or a thread can take
   * seconds on a loaded machine); stops if the job ends meanwhile. The job cannot end before.
   */
  private async startRanks(): Promise<void> {
    for (let rank = 0; rank < this.options.np && !this.state.ending; rank++) {
      try {
        this.startRank(rank);
      } catch (err) {
        this.dispatch({ type: 'startFailed', rank, message: (err as Error).message });
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.startingRanks = false;
    if (this.state.ranks.every((r) => r.exited)) this.resolveEnd(epochMs());
  }

  /** After the last exit: stops the timers, waits for the ranks' output, closes the coordinator, the spawner and the bundles. */
  async close(): Promise<void> {
    this.timers.clear();
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    try {
      await Promise.all(this.outputs);
      await this.coordinator.close();
      await this.options.spawner?.close();
      await this.program.remove();
      await this.dynamicRanks.close();
    } finally {
      removeLocalLinksDir(this.localLinks);
    }
  }

  private coordinatorEvents(): CoordinatorEvents {
    return {
      hung: (rank, silentMs) => this.dispatch({ type: 'silent', rank, silentMs }),
      hello: (rank, survive) => this.dispatch({ type: 'registered', rank, survive }),
      done: (rank) => this.dispatch({ type: 'done', rank }),
      abort: (rank, code, reason) => this.dispatch({ type: 'aborted', rank, code, reason }),
      warn: log,
      // comm.spawn() and comm.retire() (launcher/dynamic-ranks.ts, docs/dynamic-processes.md).
      spawn: (rank, request) => this.dynamicRanks.spawn(rank, request),
      retire: (rank) => this.dispatch({ type: 'done', rank }),
    };
  }

  /** Starts world rank `rank` with `extraEnv` added to the job's environment, and `argv` after node. */
  private startRank(rank: number, extraEnv: NodeJS.ProcessEnv = {}, argv?: string[]): void {
    const { options } = this;
    const env = { ...this.env, ...extraEnv, [Env.rank]: String(rank), ...(this.trace ? { [Env.trace]: this.trace.file(rank) } : {}) };
    const args = argv ?? [...this.program.nodeArgs(this.program.entry), ...options.args];
    const child = options.spawner
      ? options.spawner.spawn(rank, env)
      : // Standard input goes to rank 0, as with mpirun.
        spawn(process.execPath, args, { env, stdio: [rank === 0 ? 'inherit' : 'ignore', 'pipe', 'pipe'] });
    const prefix = options.spawner ? options.spawner.prefix(rank) : options.quiet ? '' : `[rank ${rank}] `;
    this.outputs[rank] = Promise.all([
      pipeLines(child.stdout!, process.stdout, prefix),
      pipeLines(child.stderr!, process.stderr, prefix),
    ]).then(() => {});
    this.children[rank] = child;
    const control = options.spawner?.controlPort?.(rank);
    if (control) this.coordinator.serve(rank, control);
    this.dispatch({ type: 'started', rank });
    child.on('error', (err) => this.dispatch({ type: 'startFailed', rank, message: err.message }));
    child.on('exit', (code, signal) => {
      const exitCode = code ?? 128 + (osConstants.signals[signal as keyof typeof osConstants.signals] ?? 1);
      this.dispatch({ type: 'exited', rank, code: exitCode, signal, lostReason: options.spawner?.lostReason?.(rank) });
    });
  }

  /** Feeds `event` to the state machine, at this moment, and carries out its answer. */
  private dispatch(event: JobEvent): void {
    const [state, actions] = step(this.state, event, epochMs());
    this.state = state;
    for (const action of actions) this.carry(action);
  }

  carry(action: JobAction): void {
    switch (action.do) {
      case 'log':
        return log(action.line);
      case 'write':
        process.stderr.write(action.text);
        return;
      case 'trace':
        this.launcherEvents.push(action.event);
        return;
      case 'signal':
        this.children[action.rank].kill(action.signal);
        return;
      case 'announceLost':
        return this.coordinator.announceLost(action.rank, action.reason);
      case 'start':
        return this.coordinator.start(action.t0, (rank) => this.options.spawner?.clockOffsetMs?.(rank) ?? 0);
      case 'finish':
        return this.coordinator.finish();
      case 'at':
        return this.timers.at(action.time, epochMs, () => this.dispatch(action.event));
      case 'after':
        return this.timers.after(action.ms, () => this.dispatch(action.event));
      case 'askStatus':
        return void this.askStatus(action.ranks);
      case 'end':
        // Every rank started so far has exited; startRanks() decides once it has started them all.
        if (!this.startingRanks) this.resolveEnd(epochMs());
        return;
    }
  }

  /** --timeout: asks each rank still running what it waits on (3 s for an answer). */
  private async askStatus(ranks: number[]): Promise<void> {
    const reports = await Promise.all(ranks.map(async (r) => [r, await this.coordinator.status(r, 3000)] as const));
    this.dispatch({ type: 'statuses', reports });
  }
}
