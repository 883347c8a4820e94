import { availableParallelism } from 'node:os';
import { clockAnchorText } from '../runtime/protocol/epoch-clock.ts';
import { Env } from '../runtime/protocol/rendezvous.ts';
import type { NetworkFaults } from '../runtime/protocol/rendezvous.ts';
import type { RankSpawner } from './spawner.ts';

/**
 * Radix of the collectives' trees when ranks outnumber cores: every wake-up of a rank then costs
 * more than a round, so wide trees win (a star up to 64 ranks; measured in bench/collectives.ts).
 */
const OVERSUBSCRIBED_RADIX = 64;

/** The environment every rank of the job gets (each adds its own rank and trace file). */
export function jobEnvironment(
  options: {
    np: number;
    seed: number;
    env: Record<string, string>;
    maxPayload?: number;
    recvBufferBytes?: number;
    network?: NetworkFaults;
    poll?: boolean;
    spawner?: RankSpawner;
  },
  job: { jobId: string; token: string; rendezvous: string },
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...options.env,
    [Env.size]: String(options.np),
    [Env.jobId]: job.jobId,
    [Env.token]: job.token,
    [Env.rendezvous]: job.rendezvous,
    [Env.seed]: String(options.seed),
    ...(options.maxPayload ? { [Env.maxPayload]: String(options.maxPayload) } : {}),
    ...(options.recvBufferBytes ? { [Env.recvBuffer]: String(options.recvBufferBytes) } : {}),
    ...(options.network ? { [Env.faults]: JSON.stringify(options.network) } : {}),
    // This machine's time line (epoch-clock.ts); an agent gives the ranks of its host its own.
    [Env.clockAnchor]: clockAnchorText(),
  };
  const onThisMachine = !options.spawner || options.spawner.onThisMachine;
  // Ranks outnumbering this machine's cores: collectives on wide k-nomial trees (runtime/knomial.ts).
  if (onThisMachine && env[Env.collectiveRadix] === undefined && options.np > availableParallelism()) {
    env[Env.collectiveRadix] = String(OVERSUBSCRIBED_RADIX);
  }
  // Forced by --poll/--no-poll; else, on this machine, on when every rank can have a core (the agents'
  // hosts decide for themselves: remote-job.ts). A DSMPI_POLL given with -x or in the environment stands.
  if (options.poll !== undefined) env[Env.poll] = options.poll ? '1' : '0';
  else if (onThisMachine && env[Env.poll] === undefined) env[Env.poll] = options.np <= availableParallelism() ? '1' : '0';
  return env;
}
