import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { nanoid } from 'nanoid';
import { keyToText, randomKey } from '../runtime/protocol/keys.ts';
import { epochMs } from '../runtime/protocol/epoch-clock.ts';
import { Env, type NetworkFaults } from '../runtime/protocol/rendezvous.ts';
import type { TraceEvent } from '../runtime/protocol/trace-event.ts';
import type { KillSpec, PauseSpec } from './fault-spec.ts';
import { mergeTraces, printSummary, type RankTrace } from './trace-merge.ts';
import { bundleProgram } from './bundle.ts';
import { tsxLoader } from './tsx-loader.ts';
import { Coordinator } from './coordinator.ts';
import { pipeLines } from './line-prefixer.ts';
import { DynamicRanks } from './dynamic-ranks.ts';
import type { RankSpawner } from './spawner.ts';

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

/**
 * Radix of the collectives' trees when ranks outnumber cores: every wake-up of a rank then costs
 * more than a round, so wide trees win (a star up to 64 ranks; measured in bench/collectives.ts).
 */
const OVERSUBSCRIBED_RADIX = 64;

/** Exit codes of dsrun itself (a failing rank's own code is passed through). Documented in docs/dsrun.md. */
export const ExitCode = {
  ok: 0,
  usage: 2,
  timeout: 124,
  launchFailed: 125,
} as const;

/** How long ranks get after SIGTERM before SIGKILL. */
const KILL_GRACE_MS = 2000;

interface RankState {
  child: ChildProcess;
  done: boolean;
  exited: boolean;
  survive: boolean;
  /** Registered with the coordinator (said hello). */
  registered?: boolean;
  /** The launcher has already traced this rank's end (--kill, heartbeat). */
  crashTraced?: boolean;
  /** When the launcher saw the process end (epoch ms). */
  exitedAt?: number;
  /** Reason sent by the rank itself (uncaught error or abort()). */
  abortReason?: string;
  abortCode?: number;
  output: Promise<void>;
}

/** Runs a job to its end and returns dsrun's exit code. Never leaves a child behind. */
export async function runJob(options: JobOptions): Promise<number> {
  const jobId = options.spawner?.jobId ?? nanoid(12);
  const key = options.spawner?.ranksKey ?? randomKey();
  const log = (line: string): void => {
    process.stderr.write(`dsrun: ${line}\n`);
  };

  let entry = options.program;
  let removeBundle = async (): Promise<void> => {};
  if (options.bundle) {
    try {
      const bundled = await bundleProgram(options.program, jobId);
      entry = bundled.file;
      removeBundle = bundled.remove;
    } catch (err) {
      log(`cannot compile ${options.program}:\n${(err as Error).message}`);
      return ExitCode.launchFailed;
    }
  }
  if (options.spawner) {
    try {
      await options.spawner.start(entry, options.args, options.env);
    } catch (err) {
      log((err as Error).message);
      await options.spawner.close();
      await removeBundle();
      return ExitCode.launchFailed;
    }
  }

  const ranks: RankState[] = [];
  let failure: { rank: number; code: number; reason: string } | undefined;
  /** Deaths the survivors asked to survive (run(main, { surviveFailures: true })). */
  const survived: Array<{ rank: number; reason: string }> = [];
  const tracing = options.tracePath !== undefined || !!options.summary;
  const traceDir = tracing ? mkdtempSync(join(tmpdir(), 'dsmpi-trace-')) : undefined;
  /** Events seen by the launcher (kills, pauses, deaths), timed in epoch ms like the ranks' files. */
  const launcherEvents: TraceEvent[] = [];
  /**
   * The job's time 0 (epoch ms): when every rank has registered, so start-up time does not shift
   * the faults. Until then, the time the ranks were started.
   */
  let t0 = epochMs();
  let started = false;
  const now = epochMs;
  const timers: NodeJS.Timeout[] = [];
  let ending = false;
  let resolveEnd: (code: number) => void = () => {};
  const ended = new Promise<number>((resolve) => {
    resolveEnd = resolve;
  });

  /**
   * Time 0: every rank of the job has registered, or ended before it could (it is announced lost,
   * or ran no program). The ranks start their main then, so none waits for ever on one that died.
   */
  const startWhenAllRegistered = (): void => {
    if (started || ending) return;
    const accounted = ranks.slice(0, options.np).filter((r) => r?.registered || r?.exited).length;
    if (accounted < options.np) return;
    started = true;
    t0 = epochMs();
    coordinator.start(t0);
    scheduleFaults();
  };
  const live = (): number[] => ranks.flatMap((r, i) => (r.exited ? [] : [i]));
  const killAll = (): void => {
    for (const r of ranks) if (!r.exited) r.child.kill('SIGTERM');
    setTimeout(() => {
      for (const r of ranks) if (!r.exited) r.child.kill('SIGKILL');
    }, KILL_GRACE_MS).unref();
  };
  /** Records the first failure; aborts the job unless it is a death every survivor asked to survive. */
  const fail = (rank: number, code: number, reason: string, deathOnly: boolean): void => {
    if (ending) return;
    const survivors = live().filter((r) => r !== rank);
    if (deathOnly && survivors.length > 0 && survivors.every((r) => ranks[r].survive)) {
      survived.push({ rank, reason });
      return;
    }
    failure ??= { rank, code, reason };
    ending = true;
    killAll();
  };

  const coordinator = await Coordinator.start(
    {
      jobId,
      key,
      size: options.np,
      host: options.spawner?.coordinatorHost,
      tls: options.spawner?.coordinatorTls,
      heartbeatMs: options.heartbeatMs,
      heartbeatMisses: options.heartbeatMisses,
    },
    {
      hung: (rank, silentMs) => {
        const state = ranks[rank];
        if (state.exited || ending) return;
        // Only ranks that survive failures act on a lost peer; without them a silent rank may just
        // be computing, and --timeout is the tool for a job that hangs.
        if (!ranks.some((r, i) => i !== rank && !r.exited && r.survive)) return;
        const reason = `no heartbeat for ${(silentMs / 1000).toFixed(1)} s (stopped, or busy in a synchronous loop)`;
        log(`rank ${rank}: ${reason}; declared lost`);
        state.abortReason = reason;
        state.crashTraced = true;
        launcherEvents.push({
          t: now(),
          ev: 'crash',
          rank,
          reason: `declared lost: ${reason}`,
        });
        coordinator.announceLost(rank, reason);
        state.child.kill('SIGKILL');
      },
      hello: (rank, survive) => {
        ranks[rank].survive = survive;
        ranks[rank].registered = true;
        if (rank < options.np) startWhenAllRegistered();
      },
      done: (rank) => {
        ranks[rank].done = true;
        if (ranks.every((r) => r.done || r.exited)) coordinator.finish();
      },
      abort: (rank, code, reason) => {
        ranks[rank].abortReason = reason;
        ranks[rank].abortCode = code;
        fail(rank, code, reason, false);
      },
      warn: (message) => log(message),
      // comm.spawn() and comm.retire() (launcher/dynamic-ranks.ts, docs/dynamic-processes.md).
      spawn: (rank, request) => dynamicRanks.spawn(rank, request),
      retire: (rank) => {
        ranks[rank].done = true;
        if (ranks.every((r) => r.done || r.exited)) coordinator.finish();
      },
    },
  );

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...options.env,
    [Env.size]: String(options.np),
    [Env.jobId]: jobId,
    [Env.token]: keyToText(key),
    [Env.rendezvous]: coordinator.url,
    [Env.seed]: String(options.seed),
    ...(options.maxPayload ? { [Env.maxPayload]: String(options.maxPayload) } : {}),
    ...(options.recvBufferBytes ? { [Env.recvBuffer]: String(options.recvBufferBytes) } : {}),
    ...(options.network ? { [Env.faults]: JSON.stringify(options.network) } : {}),
  };
  // Ranks outnumbering this machine's cores: collectives on wide k-nomial trees (runtime/knomial.ts).
  if (
    (!options.spawner || options.spawner.onThisMachine) &&
    env[Env.collectiveRadix] === undefined &&
    options.np > availableParallelism()
  ) {
    env[Env.collectiveRadix] = String(OVERSUBSCRIBED_RADIX);
  }
  // Forced by --poll/--no-poll; else, on this machine, on when every rank can have a core (the agents'
  // hosts decide for themselves: remote-job.ts). A DSMPI_POLL given with -x or in the environment stands.
  if (options.poll !== undefined) env[Env.poll] = options.poll ? '1' : '0';
  else if ((!options.spawner || options.spawner.onThisMachine) && env[Env.poll] === undefined) {
    env[Env.poll] = options.np <= availableParallelism() ? '1' : '0';
  }
  t0 = epochMs();
  const nodeArgs = options.bundle ? ['--enable-source-maps', entry] : ['--import', tsxLoader, entry];

  const startRank = (rank: number, extraEnv: NodeJS.ProcessEnv = {}, argv = [...nodeArgs, ...options.args]): void => {
    const rankEnv = {
      ...env,
      ...extraEnv,
      [Env.rank]: String(rank),
      ...(traceDir ? { [Env.trace]: join(traceDir, `rank-${rank}.jsonl`) } : {}),
    };
    const child = options.spawner
      ? options.spawner.spawn(rank, rankEnv)
      : // Standard input goes to rank 0, as with mpirun.
        spawn(process.execPath, argv, { env: rankEnv, stdio: [rank === 0 ? 'inherit' : 'ignore', 'pipe', 'pipe'] });
    const prefix = options.spawner ? options.spawner.prefix(rank) : options.quiet ? '' : `[rank ${rank}] `;
    const output = Promise.all([pipeLines(child.stdout!, process.stdout, prefix), pipeLines(child.stderr!, process.stderr, prefix)]).then(
      () => {},
    );
    const state: RankState = {
      child,
      done: false,
      exited: false,
      survive: false,
      output,
    };
    ranks[rank] = state;
    child.on('error', (err) => {
      log(`cannot start rank ${rank}: ${err.message}`);
      state.exited = true;
      fail(rank, ExitCode.launchFailed, err.message, false);
    });
    child.on('exit', (code, signal) => {
      state.exited = true;
      state.exitedAt = now();
      const exitCode = code ?? 128 + (osConstants.signals[signal as keyof typeof osConstants.signals] ?? 1);
      if (exitCode !== 0 && !ending) {
        const reason =
          state.abortReason ?? options.spawner?.lostReason?.(rank) ?? (signal ? `killed by ${signal}` : `exited with code ${exitCode}`);
        if (!state.crashTraced && state.abortReason === undefined) launcherEvents.push({ t: state.exitedAt, ev: 'crash', rank, reason });
        state.crashTraced = true;
        coordinator.announceLost(rank, reason);
        fail(rank, state.abortCode ?? exitCode, reason, true);
      } else if (!state.done && !ending) {
        // Ended without telling the coordinator (a program that never called run()): count it done.
        state.done = true;
      }
      if (rank < options.np) startWhenAllRegistered();
      // The survivors may all be done already (a lost rank's exit can come after their `done`).
      if (!ending && ranks.every((r) => r.done || r.exited)) coordinator.finish();
      if (ranks.every((r) => r.exited)) resolveEnd(0);
    });
  };
  for (let rank = 0; rank < options.np; rank++) startRank(rank);
  const dynamicRanks = new DynamicRanks({
    np: options.np,
    jobId,
    program: options.program,
    args: options.args,
    bundle: options.bundle,
    entry,
    nodeArgs: (file) => (options.bundle && file !== options.program ? ['--enable-source-maps', file] : ['--import', tsxLoader, file]),
    start: startRank,
    allow: (total) => coordinator.allowRanks(total),
    ending: () => ending,
  });

  // --kill and --pause, timed from t0 (once every rank has registered).
  const at = (ms: number, fn: () => void): void => {
    // Node timers may fire a fraction of a millisecond early: never act before the due time.
    const fire = (): void => {
      const left = t0 + ms - epochMs();
      if (left > 0) timers.push(setTimeout(fire, Math.ceil(left)));
      else fn();
    };
    fire();
  };
  /** --kill and --pause flags carried out; those that never were are reported at the end. */
  const fired = new Set<KillSpec | PauseSpec>();
  function scheduleFaults(): void {
    for (const k of options.kill ?? []) {
      at(k.atMs, () => {
        const state = ranks[k.rank];
        if (state.exited || ending) return;
        fired.add(k);
        state.abortReason = `killed by SIGKILL (--kill ${k.rank}@${k.atMs}ms)`;
        state.crashTraced = true;
        launcherEvents.push({
          t: now(),
          ev: 'crash',
          rank: k.rank,
          reason: 'kill',
        });
        state.child.kill('SIGKILL');
      });
    }
    for (const p of options.pause ?? []) {
      at(p.atMs, () => {
        const state = ranks[p.rank];
        if (state.exited || ending) return;
        fired.add(p);
        const pausedAt = now();
        launcherEvents.push({
          t: pausedAt,
          ev: 'pause',
          rank: p.rank,
          untilMs: Math.round(pausedAt - t0 + p.forMs),
        });
        state.child.kill('SIGSTOP');
        timers.push(
          setTimeout(() => {
            if (state.exited) return;
            launcherEvents.push({ t: now(), ev: 'resume', rank: p.rank });
            state.child.kill('SIGCONT');
          }, p.forMs),
        );
      });
    }
  }

  let timedOut = false;
  const timeoutTimer =
    options.timeoutSec !== undefined
      ? setTimeout(() => {
          timedOut = true;
          void reportTimeout();
        }, options.timeoutSec * 1000)
      : undefined;
  const reportTimeout = async (): Promise<void> => {
    if (ending) return;
    ending = true;
    log(`timeout after ${options.timeoutSec} s; what each rank still running waits on:`);
    const reports = await Promise.all(live().map(async (r) => [r, await coordinator.status(r, 3000)] as const));
    for (const [r, waiting] of reports) {
      if (waiting === undefined) log(`  rank ${r}: no answer (busy in a synchronous loop, or not started)`);
      else if (waiting.length === 0) log(`  rank ${r}: not blocked in a dsmpi operation`);
      else for (const w of waiting) log(`  rank ${r}: ${w.what} for ${(w.forMs / 1000).toFixed(1)} s`);
    }
    killAll();
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    log(`${signal}: stopping the job`);
    ending = true;
    failure ??= {
      rank: -1,
      code: 128 + (osConstants.signals[signal] ?? 1),
      reason: signal,
    };
    killAll();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  await ended;
  const endedAt = now() - t0;
  for (const timer of timers) clearTimeout(timer);
  if (timeoutTimer) clearTimeout(timeoutTimer);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  await Promise.all(ranks.map((r) => r.output));
  await coordinator.close();
  await options.spawner?.close();
  await removeBundle();
  await dynamicRanks.close();

  if (traceDir) {
    for (const p of options.network?.partitions ?? []) {
      if (!started) break;
      const sides = { from: p.from, to: p.to, oneWay: p.oneWay || undefined };
      launcherEvents.push({ t: t0 + p.atMs, ev: 'partition', ...sides, untilMs: p.untilMs });
      if (p.untilMs !== undefined && p.untilMs <= endedAt) launcherEvents.push({ t: t0 + p.untilMs, ev: 'heal', ...sides });
    }
    const traces: RankTrace[] = [];
    // Every rank the job started, those spawned by comm.spawn() included.
    for (let r = 0; r < ranks.length; r++) {
      try {
        traces.push({ text: readFileSync(join(traceDir, `rank-${r}.jsonl`), 'utf8'), clockOffsetMs: options.spawner?.clockOffsetMs?.(r) });
      } catch {
        const lost = options.spawner?.lostReason?.(r);
        const reason = lost ? `${lost} before the rank's trace came back` : 'the rank ended before it opened its trace file';
        launcherEvents.push({ t: ranks[r]?.exitedAt ?? now(), ev: 'untraced', rank: r, reason });
      }
    }
    const events = mergeTraces(traces, launcherEvents, t0, { t: 0, ev: 'run', seed: options.seed, command: options.command });
    rmSync(traceDir, { recursive: true, force: true });
    if (options.tracePath) {
      try {
        writeFileSync(options.tracePath, events.text);
      } catch (err) {
        log(`cannot write the trace to ${options.tracePath}: ${(err as Error).message}`);
      }
    }
    if (options.summary) printSummary(events.events, ranks.length, (line) => process.stderr.write(line + '\n'));
  }

  for (const [flag, specs] of [
    ['--kill', options.kill ?? []],
    ['--pause', options.pause ?? []],
  ] as const) {
    for (const f of specs) {
      if (fired.has(f)) continue;
      const text = `${flag} ${f.rank}@${f.atMs / 1000}s${'forMs' in f ? `+${f.forMs / 1000}s` : ''}`;
      const why = !started
        ? 'the job ended before every rank had started'
        : ranks[f.rank].exitedAt !== undefined && ranks[f.rank].exitedAt! - t0 < f.atMs
          ? `rank ${f.rank} had ended at ${((ranks[f.rank].exitedAt! - t0) / 1000).toFixed(2)} s`
          : `the job ended at ${(endedAt / 1000).toFixed(2)} s`;
      log(`${text} did not fire: ${why}`);
    }
  }
  if (timedOut) return ExitCode.timeout;
  if (failure) {
    if (failure.rank >= 0) {
      const [first, ...rest] = failure.reason.split('\n');
      log(`rank ${failure.rank} failed (exit code ${failure.code}): ${first}`);
      if (rest.length > 0) process.stderr.write(rest.map((l) => `  ${l.trim()}`).join('\n') + '\n');
    }
    return failure.code === 0 ? 1 : failure.code;
  }
  for (const d of survived) log(`rank ${d.rank} was lost (${d.reason.split('\n')[0]}); the survivors finished`);
  return ExitCode.ok;
}
