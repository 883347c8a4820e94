import { spawn, type ChildProcess } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { nanoid } from 'nanoid';
import { Env } from '../runtime/transport/rendezvous.ts';
import { bundleProgram } from './bundle.ts';
import { Coordinator } from './coordinator.ts';
import { pipeLines } from './line-prefixer.ts';

export interface JobOptions {
  np: number;
  program: string;
  args: string[];
  /** Kill the job after this many seconds, reporting what each rank waits on. */
  timeoutSec?: number;
  seed: number;
  /** Extra environment for every rank (-x). */
  env: Record<string, string>;
  /** No `[rank r]` prefixes. */
  quiet: boolean;
  /** Compile once with esbuild (default) instead of loading TypeScript in every rank. */
  bundle: boolean;
  maxPayload?: number;
}

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
  /** Reason sent by the rank itself (uncaught error or abort()). */
  abortReason?: string;
  abortCode?: number;
  output: Promise<void>;
}

/** Runs a job to its end and returns dsrun's exit code. Never leaves a child behind. */
export async function runJob(options: JobOptions): Promise<number> {
  const jobId = nanoid(12);
  const token = nanoid(32);
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

  const ranks: RankState[] = [];
  let failure: { rank: number; code: number; reason: string } | undefined;
  let ending = false;
  let resolveEnd: (code: number) => void = () => {};
  const ended = new Promise<number>((resolve) => {
    resolveEnd = resolve;
  });

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
    failure ??= { rank, code, reason };
    const survivors = live().filter((r) => r !== rank);
    if (deathOnly && survivors.length > 0 && survivors.every((r) => ranks[r].survive)) return;
    ending = true;
    killAll();
  };

  const coordinator = await Coordinator.start(
    { jobId, token, size: options.np },
    {
      hello: (rank, survive) => {
        ranks[rank].survive = survive;
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
    },
  );

  const env = {
    ...process.env,
    ...options.env,
    [Env.size]: String(options.np),
    [Env.jobId]: jobId,
    [Env.token]: token,
    [Env.rendezvous]: coordinator.url,
    [Env.seed]: String(options.seed),
    ...(options.maxPayload ? { [Env.maxPayload]: String(options.maxPayload) } : {}),
  };
  const nodeArgs = options.bundle ? ['--enable-source-maps', entry] : ['--import', 'tsx', entry];

  for (let rank = 0; rank < options.np; rank++) {
    const child = spawn(process.execPath, [...nodeArgs, ...options.args], {
      env: { ...env, [Env.rank]: String(rank) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const prefix = options.quiet ? '' : `[rank ${rank}] `;
    const output = Promise.all([pipeLines(child.stdout!, process.stdout, prefix), pipeLines(child.stderr!, process.stderr, prefix)]).then(() => {});
    const state: RankState = { child, done: false, exited: false, survive: false, output };
    ranks.push(state);
    child.on('error', (err) => {
      log(`cannot start rank ${rank}: ${err.message}`);
      state.exited = true;
      fail(rank, ExitCode.launchFailed, err.message, false);
    });
    child.on('exit', (code, signal) => {
      state.exited = true;
      const exitCode = code ?? 128 + (osConstants.signals[signal as keyof typeof osConstants.signals] ?? 1);
      if (exitCode !== 0 && !ending) {
        const reason = state.abortReason ?? (signal ? `killed by ${signal}` : `exited with code ${exitCode}`);
        coordinator.announceLost(rank, reason);
        fail(rank, state.abortCode ?? exitCode, reason, true);
      } else if (!state.done && !ending) {
        // Ended without telling the coordinator (a program that never called run()): count it done.
        state.done = true;
        if (ranks.every((r) => r.done || r.exited)) coordinator.finish();
      }
      if (ranks.every((r) => r.exited)) resolveEnd(0);
    });
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
    const reports = await Promise.all(live().map(async (r) => [r, await coordinator.status(r, 1000)] as const));
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
    failure ??= { rank: -1, code: 128 + (osConstants.signals[signal] ?? 1), reason: signal };
    killAll();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  await ended;
  if (timeoutTimer) clearTimeout(timeoutTimer);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  await Promise.all(ranks.map((r) => r.output));
  await coordinator.close();
  await removeBundle();

  if (timedOut) return ExitCode.timeout;
  if (failure) {
    if (failure.rank >= 0) {
      const [first, ...rest] = failure.reason.split('\n');
      log(`rank ${failure.rank} failed (exit code ${failure.code}): ${first}`);
      if (rest.length > 0) process.stderr.write(rest.map((l) => `  ${l.trim()}`).join('\n') + '\n');
    }
    return failure.code === 0 ? 1 : failure.code;
  }
  return ExitCode.ok;
}
