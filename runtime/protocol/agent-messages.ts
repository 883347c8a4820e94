/**
 * The protocol between dsrun (the launcher) and a `dsrun agent` on each host (docs/multi-host.md).
 * One WebSocket per job, authenticated in its handshake (runtime/protocol/handshake.ts, purpose
 * 'agent'); every frame one MessagePack object.
 */

/** Launcher → agent. */
export type LauncherToAgent =
  /**
   * The program, once, before any `spawn`: the bundle itself (`code`, with its source map), or with
   * --no-ship a path that exists on every host (`path`, run with tsx).
   */
  | { t: 'program'; name: string; code?: Uint8Array; map?: Uint8Array; path?: string; args: string[]; iface?: string; tls?: RankTlsRequest }
  /**
   * Start one rank with this environment (only DSMPI_* variables and -x ones). `trace`: the rank
   * writes a trace file (dsrun --trace, --summary) into the job's directory on this host.
   */
  | { t: 'spawn'; rank: number; env: Record<string, string>; trace?: boolean; stdin?: boolean }
  /**
   * The launcher's standard input for a rank spawned with `stdin` (rank 0, as with mpirun), in order:
   * `data` pieces, then `end`.
   */
  | { t: 'stdin'; rank: number; data?: Uint8Array; end?: boolean }
  /** Asks for this host's clock (a `clock` answer with the same `id`), to place its ranks' trace times. */
  | { t: 'clock'; id: number }
  /** Send a signal to a rank (--kill, --pause, the job's end). */
  | { t: 'signal'; rank: number; signal: NodeJS.Signals };

/**
 * The job uses TLS on every link: the agent hands its ranks its own certificate and key, and `ca`
 * (PEM; absent: the system's CAs) to verify the coordinator and the other ranks.
 */
export interface RankTlsRequest {
  ca?: Uint8Array;
}

/** Agent → launcher. */
export type AgentToLauncher =
  /**
   * The program is in place; ranks will bind `bind` (the address the others dial). `cores`: the host's
   * available parallelism, which decides whether its ranks poll (dsrun --poll).
   */
  | { t: 'ready'; hostname: string; bind: string; cores?: number }
  | { t: 'spawned'; rank: number; pid: number }
  /** Output of a rank: fd 1 (stdout) or 2 (stderr). */
  | { t: 'out'; rank: number; fd: 1 | 2; data: Uint8Array }
  /** The agent's clock (epoch milliseconds) when it answered the `clock` request `id`. */
  | { t: 'clock'; id: number; ms: number }
  /**
   * A piece of a traced rank's trace file, in order, each at most TRACE_CHUNK_BYTES; sent when the rank
   * has ended, before its `exit`.
   */
  | { t: 'trace'; rank: number; data: Uint8Array }
  /** A rank's process ended (after its output, and its trace when traced). `error`: it could not be started. */
  | { t: 'exit'; rank: number; code: number | null; signal: NodeJS.Signals | null; error?: string }
  /** The agent refuses the request (bad program, bad interface, ...). */
  | { t: 'error'; message: string };

/** Trace files travel in pieces of this size: far below the link's frame limits (64 MiB to the launcher). */
export const TRACE_CHUNK_BYTES = 1024 * 1024;

/** Environment variable holding the shared secret (or use --secret-file). */
export const SECRET_ENV = 'DSMPI_SECRET';
