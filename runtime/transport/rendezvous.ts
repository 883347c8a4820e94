/**
 * The control protocol between each rank and the launcher's rendezvous coordinator (types only; the
 * launcher imports this file and nothing else of the runtime). It runs over one WebSocket per rank,
 * authenticated with the same headers as rank-to-rank links, each frame one MessagePack object.
 */

/** Environment variables dsrun sets for each rank. */
export const Env = {
  rank: 'DSMPI_RANK',
  size: 'DSMPI_SIZE',
  jobId: 'DSMPI_JOB',
  token: 'DSMPI_TOKEN',
  /** ws://host:port of the coordinator. */
  rendezvous: 'DSMPI_RENDEZVOUS',
  seed: 'DSMPI_SEED',
  /** Address the rank listens on for its peers. */
  bind: 'DSMPI_BIND',
  maxPayload: 'DSMPI_MAX_PAYLOAD',
} as const;

/** Rank → coordinator. */
export type RankToCoordinator =
  /** Registration: where this rank listens, and whether it survives peer failures. */
  | { t: 'hello'; rank: number; pid: number; address: string; survive: boolean }
  /** The rank's program has returned; it keeps serving (one-sided hosts) until `finish`. */
  | { t: 'done' }
  /** The rank aborts the job: uncaught error or abort(); `code` is its exit code. */
  | { t: 'abort'; code: number; reason: string }
  /** Answer to `status`: what the rank waits on, and for how long. */
  | { t: 'status'; waiting: Array<{ what: string; forMs: number }> };

/** Coordinator → rank. */
export type CoordinatorToRank =
  /** Where a rank listens (sent for every rank as it registers). */
  | { t: 'peer'; rank: number; address: string }
  /** A rank died. */
  | { t: 'lost'; rank: number; reason: string }
  /** Every rank is done: close and exit. */
  | { t: 'finish' }
  /** Report what you wait on (for --timeout). */
  | { t: 'status?' };
