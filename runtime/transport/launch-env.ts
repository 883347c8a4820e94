/**
 * What a rank reads from its environment (readRankEnv): its place in the job and dsrun's options for
 * it, checked before anything starts.
 *
 * Starting under another launcher (docs/multi-host.md): OpenMPI's `mpirun` (OMPI_COMM_WORLD_RANK,
 * OMPI_COMM_WORLD_SIZE) or Slurm's `srun` (SLURM_PROCID, SLURM_NTASKS). Rank and size come from
 * that launcher; the rendezvous is a `dsrun rendezvous` server named by DSMPI_RENDEZVOUS; the job
 * key derives from DSMPI_SECRET and the job id DSMPI_JOB (default `dsmpi`), as the server's does.
 * A wss:// rendezvous means TLS (DSMPI_TLS_CERT/KEY, else TLS-PSK: rank-tls.ts); a certificate set with a ws:// one is refused.
 */
import type { Buffer } from 'node:buffer';
import { DsError, ErrorCode } from '../errors.ts';
import { keyFromText, keyToText } from '../protocol/key-text.ts';
import type { SpawnInfo } from '../services.ts';
import { rankTlsFromEnv, type RankTls } from './rank-tls.ts';
import { DEFAULT_RENDEZVOUS_JOB, Env, isTlsUrl, parseRadix, type NetworkFaults } from '../protocol/rendezvous.ts';

/** What run() reads from the environment: without a launcher only the seed, else the rank's place in its job. */
export type RankEnv = { rendezvous: undefined; seed: number } | JobEnv;

/** A rank of a job that dsrun (or a `dsrun rendezvous` server) coordinates. */
export interface JobEnv {
  /** ws:// or wss:// address of the job's coordinator. */
  rendezvous: string;
  rank: number;
  size: number;
  jobId: string;
  /** The job's ranks key (runtime/protocol/keys.ts). */
  key: Buffer;
  seed: number;
  collectiveRadix: number | undefined;
  /** TLS on every link of the rank, for a wss:// rendezvous (docs/security.md). */
  tls: RankTls | undefined;
  /** Address the rank listens on for its peers. */
  host: string;
  /** Where the ranks of its launcher on this host listen on Unix sockets (Env.localLinks). */
  localDir: string | undefined;
  maxPayload: number | undefined;
  recvBufferBytes: number | undefined;
  /** dsrun --drop / --delay / --partition: faults the rank applies to its own sends. */
  faults: NetworkFaults | undefined;
  /** dsrun --trace: the file this rank writes its trace events to. */
  tracePath: string | undefined;
  /** dsrun --poll: poll for a message while a receive waits instead of sleeping. */
  poll: boolean;
  /** Set for a rank started by comm.spawn(). */
  spawned: SpawnInfo | undefined;
}

/** Reads and checks the environment of this rank (launchEnv first, for mpirun and srun). */
export async function readRankEnv(processEnv: NodeJS.ProcessEnv): Promise<RankEnv> {
  const env = await launchEnv(processEnv);
  const seed = Number(env[Env.seed] ?? 1);
  const rendezvous = env[Env.rendezvous];
  if (!rendezvous) return { rendezvous: undefined, seed };
  const rank = Number(env[Env.rank]);
  const size = Number(env[Env.size]);
  const key = keyFromText(env[Env.token]);
  if (!(Number.isInteger(rank) && Number.isInteger(size) && rank >= 0 && rank < size)) {
    throw new DsError(ErrorCode.NoLauncher, `run(): bad ${Env.rank}/${Env.size} in the environment`);
  }
  if (!key) throw new DsError(ErrorCode.NoLauncher, `run(): ${Env.token} is missing or not a key of this dsmpi version`);
  let collectiveRadix: number | undefined;
  try {
    collectiveRadix = parseRadix(env[Env.collectiveRadix]);
  } catch (err) {
    throw new DsError(ErrorCode.InvalidArgument, `run(): ${(err as Error).message}`);
  }
  return {
    rendezvous,
    rank,
    size,
    jobId: env[Env.jobId] ?? '',
    key,
    seed,
    collectiveRadix,
    tls: rankTlsFromEnv(env),
    host: env[Env.bind] || '127.0.0.1',
    localDir: env[Env.localLinks] || undefined,
    maxPayload: env[Env.maxPayload] ? Number(env[Env.maxPayload]) : undefined,
    recvBufferBytes: env[Env.recvBuffer] ? Number(env[Env.recvBuffer]) : undefined,
    faults: env[Env.faults] ? (JSON.parse(env[Env.faults]!) as NetworkFaults) : undefined,
    tracePath: env[Env.trace] || undefined,
    poll: env[Env.poll] === '1',
    spawned: env[Env.spawn] ? (JSON.parse(env[Env.spawn]!) as SpawnInfo) : undefined,
  };
}

function external(env: NodeJS.ProcessEnv): { rank: string; size: string; by: string } | undefined {
  if (env.OMPI_COMM_WORLD_RANK !== undefined && env.OMPI_COMM_WORLD_SIZE !== undefined) {
    return { rank: env.OMPI_COMM_WORLD_RANK, size: env.OMPI_COMM_WORLD_SIZE, by: 'mpirun' };
  }
  if (env.PMIX_RANK !== undefined && env.OMPI_COMM_WORLD_SIZE !== undefined) {
    return { rank: env.PMIX_RANK, size: env.OMPI_COMM_WORLD_SIZE, by: 'mpirun' };
  }
  if (env.SLURM_PROCID !== undefined && env.SLURM_NTASKS !== undefined) {
    return { rank: env.SLURM_PROCID, size: env.SLURM_NTASKS, by: 'srun' };
  }
  return undefined;
}

/** The local address this host uses to reach `host` (no packet is sent: a UDP socket is only connected). */
async function localAddressToward(host: string): Promise<string> {
  // Loaded here: only a rank that mpirun or srun started on another host than the rendezvous needs it.
  const { createSocket } = await import('node:dgram');
  return new Promise((resolve) => {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    socket.on('error', () => {
      socket.close();
      resolve('0.0.0.0');
    });
    socket.connect(9, host, () => {
      const { address } = socket.address();
      socket.close();
      resolve(address);
    });
  });
}

/**
 * The environment of a rank: unchanged under dsrun (or with no launcher at all); under mpirun or
 * srun, a copy with DSMPI_RANK, DSMPI_SIZE, DSMPI_JOB, DSMPI_TOKEN and DSMPI_BIND filled in.
 */
export async function launchEnv(env: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv> {
  if (env[Env.rank] !== undefined) return env;
  const ext = external(env);
  if (!ext) return env;
  const size = Number(ext.size);
  if (!env[Env.rendezvous]) {
    if (size <= 1) return env;
    const example = ext.by === 'srun' ? `srun --export=ALL,${Env.rendezvous}=ws://host:port` : `mpirun -x ${Env.rendezvous}=ws://host:port`;
    throw new DsError(
      ErrorCode.NoLauncher,
      `run(): started by ${ext.by} as rank ${ext.rank} of ${ext.size}, but ${Env.rendezvous} is not set; start \`dsrun rendezvous -n ${ext.size}\` and pass its address (e.g. ${example})`,
    );
  }
  if (env[Env.tlsCert] && !isTlsUrl(env[Env.rendezvous]!)) {
    throw new DsError(
      ErrorCode.NoLauncher,
      `run(): ${Env.tlsCert} is set, but ${Env.rendezvous} is ${env[Env.rendezvous]}: start \`dsrun rendezvous\` with --tls-cert/--tls-key and pass its wss:// address`,
    );
  }
  const jobId = env[Env.jobId] || DEFAULT_RENDEZVOUS_JOB;
  const rendezvousHost = new URL(env[Env.rendezvous]!).hostname.replace(/^\[|\]$/g, '');
  const loopback = rendezvousHost === 'localhost' || rendezvousHost === '::1' || rendezvousHost.startsWith('127.');
  // Loaded here, with node:crypto: a rank that dsrun started is handed its key and derives none.
  const { ranksKey } = await import('../protocol/keys.ts');
  return {
    ...env,
    [Env.rank]: ext.rank,
    [Env.size]: ext.size,
    [Env.jobId]: jobId,
    [Env.token]: env[Env.token] || keyToText(ranksKey(env.DSMPI_SECRET ?? '', jobId)),
    [Env.bind]: env[Env.bind] || (loopback ? '127.0.0.1' : await localAddressToward(rendezvousHost)),
  };
}
