import type { Communicator } from './communicator.ts';
import { DsrunRank } from './dsrun-rank.ts';
import { DsError, ErrorCode } from './errors.ts';
import { runLocal } from './local.ts';
import { startRank } from './start-rank.ts';
import { readRankEnv } from './transport/launch-env.ts';
import { chooseTransport } from './transport/rank-transport.ts';

export interface RunOptions {
  /**
   * Keep going when another rank dies: operations on it reject with DS_ERR_PEER_LOST instead of the
   * launcher aborting the job. Default false (any death aborts the job, as mpirun does).
   */
  surviveFailures?: boolean;
  /**
   * Bytes of one sender's unmatched point-to-point messages this rank keeps before the sender is held
   * back (default: dsrun --recv-buffer, else 64 MiB). Give every rank the same value.
   */
  recvBufferBytes?: number;
}

/** Set by the first run(): a process is one rank of one job. */
let ran = false;

/**
 * Runs `main` as this process's rank of the job dsrun started. Started without dsrun (a plain
 * `node program.mjs` or `npx tsx program.ts`), it runs a job of one rank. An uncaught error on any
 * rank aborts the whole job with that rank's message and stack. Under dsrun, `main` starts at the
 * job's time 0, once every rank has registered with dsrun (docs/faults.md). run() resolves when every rank's
 * `main` has returned and the job's links are closed, the same under dsrun and without it: code
 * after it runs, and the process ends when that code is done. A process calls run() once; a second
 * call throws DS_ERR_INVALID_ARGUMENT.
 */
export async function run(main: (world: Communicator) => Promise<unknown> | unknown, options: RunOptions = {}): Promise<void> {
  if (ran) {
    throw new DsError(
      ErrorCode.InvalidArgument,
      'run(): called a second time in this process; a process is one rank of one job, so do all the work in one main',
    );
  }
  ran = true;
  // The environment dsrun set (or mpirun's or srun's: runtime/transport/launch-env.ts).
  const env = await readRankEnv(process.env);
  if (env.rendezvous === undefined) return runAlone(main, env.seed);
  const job = new DsrunRank(env, await chooseTransport(env), options.recvBufferBytes);
  // The world exists before any peer can reach this rank (thread links are live from the start).
  const world = startRank(job.engine, job.services, env.spawned);
  await job.join(!!options.surviveFailures);
  try {
    await main(world);
  } catch (err) {
    await job.fail(err);
  }
  await job.leave();
}

/** Without a launcher: a job of one rank. */
async function runAlone(main: (world: Communicator) => Promise<unknown> | unknown, seed: number): Promise<void> {
  try {
    await runLocal({ n: 1, seed }, main);
  } catch (err) {
    console.error(err);
    process.exit(1);
  }
}
