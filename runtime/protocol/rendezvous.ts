/**
 * The control protocol between each rank and the launcher's rendezvous coordinator: the environment
 * dsrun sets and the messages both sides speak (runtime/protocol/ holds what the launcher and the
 * runtime share; the launcher imports it and the public API). It runs over one WebSocket per rank,
 * authenticated with the same headers as rank-to-rank links, each frame one MessagePack object.
 */
import type { DsError } from '../errors.ts';

/** Environment variables dsrun sets for each rank. */
export const Env = {
  rank: 'DSMPI_RANK',
  size: 'DSMPI_SIZE',
  jobId: 'DSMPI_JOB',
  token: 'DSMPI_TOKEN',
  /** ws://host:port of the coordinator; wss:// makes every link of the rank TLS (rank-tls.ts). */
  rendezvous: 'DSMPI_RENDEZVOUS',
  seed: 'DSMPI_SEED',
  /** Address the rank listens on for its peers. */
  bind: 'DSMPI_BIND',
  maxPayload: 'DSMPI_MAX_PAYLOAD',
  /** Bytes of one sender's unmatched point-to-point messages a rank keeps (dsrun --recv-buffer). */
  recvBuffer: 'DSMPI_RECV_BUFFER',
  /** JSON of `NetworkFaults`: faults the rank's transport applies to its own sends (docs/faults.md). */
  faults: 'DSMPI_FAULTS',
  /** File the rank writes its trace events to (JSONL); dsrun merges them at the end. */
  trace: 'DSMPI_TRACE',
  /** JSON of `SpawnInfo` (runtime/spawn.ts): set for a rank started by comm.spawn(). */
  spawn: 'DSMPI_SPAWN',
  /** With a wss:// rendezvous: PEM files of the rank's certificate and key, and of the CA it trusts. */
  tlsCert: 'DSMPI_TLS_CERT',
  tlsKey: 'DSMPI_TLS_KEY',
  tlsCa: 'DSMPI_TLS_CA',
  /** Radix k ≥ 2 of the k-nomial trees of barrier, bcast, reduce, allreduce (unset: latency-optimal algorithms); the same on every rank. */
  collectiveRadix: 'DSMPI_COLL_RADIX',
  /**
   * "1": while a receive waits, the rank polls for its message instead of sleeping until woken
   * (dsrun --poll, the default when ranks do not outnumber a host's cores); "0" or unset: it sleeps.
   */
  poll: 'DSMPI_POLL',
  /**
   * Epoch ms − monotonic ms of the machine, measured once by dsrun (by the agent on another host):
   * every process of the job on the machine reads the same time line (runtime/protocol/epoch-clock.ts).
   */
  clockAnchor: 'DSMPI_CLOCK_ANCHOR',
  /** "1" in the environment of a rank thread (dsrun --threads): runtime/transport/thread-data.ts. */
  thread: 'DSMPI_THREAD',
  /**
   * A directory private to the user, one per launcher and job on a host (dsrun, or an agent): the
   * process ranks it starts listen there on Unix sockets too, and dial each other there instead of
   * over TCP (runtime/transport/ws.ts). Empty (`-x DSMPI_LOCAL_LINKS=`): TCP only.
   */
  localLinks: 'DSMPI_LOCAL_LINKS',
} as const;

/** Whether a rendezvous's or a rank's address is TLS (wss://): a wss:// rendezvous makes every link of its ranks TLS. */
export function isTlsUrl(url: string): boolean {
  return url.startsWith('wss://');
}

/** The value of DSMPI_COLL_RADIX (Env.collectiveRadix): undefined when unset or empty; an Error unless an integer >= 2. */
export function parseRadix(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const k = Number(text);
  if (!(Number.isInteger(k) && k >= 2)) throw new Error(`DSMPI_COLL_RADIX must be an integer >= 2, got '${text}'`);
  return k;
}

/** Job id of a `dsrun rendezvous` server unless DSMPI_JOB / --job say otherwise. */
export const DEFAULT_RENDEZVOUS_JOB = 'dsmpi';

/**
 * dsrun --threads: the key in a rank thread's `workerData` of its MessagePorts to the other ranks,
 * indexed by rank (runtime/transport/port.ts).
 */
export const threadLinksKey = 'dsmpiThreadLinks';

/**
 * dsrun --threads: the key in a rank thread's `workerData` of the SharedArrayBuffer, shared by every
 * rank thread, that holds the world's barrier arrival counter (barrierShared in runtime/collectives.ts).
 */
export const threadArrivalsKey = 'dsmpiThreadArrivals';

/**
 * dsrun --threads with polling: the key in a rank thread's `workerData` of the shared memory of its
 * rings and doorbells (`{ rings, bells }`, runtime/transport/shared-ring.ts); absent without polling.
 */
export const threadRingsKey = 'dsmpiThreadRings';

/**
 * dsrun --threads: the key in a rank thread's `workerData` of its MessagePort to the coordinator, which
 * carries the control protocol in place of a WebSocket (runtime/transport/control-port.ts).
 */
export const threadControlKey = 'dsmpiThreadControl';

/** How long a polling rank spins for a message (or a barrier's release) before it sleeps until one comes. */
export const BUSY_POLL_BUDGET_MS = 20;

/**
 * Whether the ranks poll for their messages: DSMPI_POLL (Env.poll) "1" or "0" as dsrun set it; unset,
 * when the `n` ranks do not outnumber the `cores`.
 */
export function pollWanted(value: string | undefined, n: number, cores: number): boolean {
  if (value === '1' || value === '0') return value === '1';
  return n <= cores;
}

/**
 * Network faults a rank applies to the messages it sends (dsrun --drop, --delay, --partition). Times
 * are milliseconds since the job's time 0 (the `start` message).
 */
export interface NetworkFaults {
  /** Probability that a message is lost. */
  drop?: number;
  /** Extra latency, uniform in [minMs, maxMs]; a message never overtakes an earlier one to the same peer. */
  delay?: { minMs: number; maxMs: number };
  /** Messages from `from` to `to` (and back unless `oneWay`) are dropped in [atMs, untilMs). */
  partitions?: Array<{ from: number[]; to: number[]; oneWay: boolean; atMs: number; untilMs?: number }>;
}

/** The largest control frame either side accepts. */
export const CONTROL_MAX_FRAME = 1024 * 1024;

/** Rank → coordinator. */
export type RankToCoordinator =
  /** Registration: where this rank listens, and whether it survives peer failures. */
  | { t: 'hello'; rank: number; pid: number; address: string; survive: boolean }
  /** The rank's program has returned; it keeps serving (one-sided hosts) until `finish`. */
  | { t: 'done' }
  /** The rank aborts the job: uncaught error or abort(); `code` is its exit code. */
  | { t: 'abort'; code: number; reason: string }
  /** Answer to `status`: what the rank waits on, and for how long. */
  | { t: 'status'; waiting: Array<{ what: string; forMs: number }> }
  /**
   * The rank takes part in `comm.shrink()` or `comm.agree(flag)`: `key` names the call (operation,
   * communicator and call number), `members` are the communicator's world ranks, `nextContext` this
   * rank's next free context id, `flag` its flag (agree; the answer carries the AND of them).
   */
  | { t: 'shrink'; key: string; members: number[]; nextContext: number; flag?: boolean }
  /** comm.spawn(): start `n` ranks whose parent intercomm uses `context`; answered by `spawned` with the same id. */
  | { t: 'spawn'; id: number; n: number; context: number; program?: string; args?: string[] }
  /** comm.retire(): this rank leaves the job normally (its links are already closed). */
  | { t: 'retire' }
  /** Answer to `ping` (on a MessagePort; a WebSocket answers pings by itself). */
  | { t: 'pong' };

/** Coordinator → rank. */
export type CoordinatorToRank =
  /** Where a rank listens: sent to the job's ranks when a rank registers after the start (a spawned one). */
  | { t: 'peer'; rank: number; address: string }
  /** A rank died. */
  | { t: 'lost'; rank: number; reason: string }
  /** Every rank is done: close and exit. */
  | { t: 'finish' }
  /** Report what you wait on (for --timeout). */
  | { t: 'status?' }
  /**
   * Every rank has registered: the job's time 0, as epoch milliseconds of the launcher's clock
   * (runtime/protocol/epoch-clock.ts), and where every rank registered so far listens ([rank,
   * address] pairs), in one message rather than one per pair of ranks. Fault times (--kill,
   * --partition, ...) and trace times count from t0.
   */
  | { t: 'start'; t0: number; peers: Array<[number, string]> }
  /** Outcome of a shrink: the members that took part (world ranks, in communicator order) and the new context. */
  | { t: 'shrunk'; key: string; alive: number[]; context: number; flag?: boolean }
  /** Answer to `spawn`: the world ranks of the new ranks, or why they could not be started. */
  | { t: 'spawned'; id: number; ranks?: number[]; error?: string }
  /** A rank retired (left the job normally): sends to it now fail with DS_ERR_RETIRED. */
  | { t: 'retired'; rank: number }
  /** Heartbeat on a MessagePort (dsrun --threads): answer `pong` (a WebSocket pings at its own level). */
  | { t: 'ping' };

/** What a rank's control link to the dsrun coordinator delivers. */
export interface ControlHandlers {
  onMessage: (msg: CoordinatorToRank) => void;
  /** The coordinator went away without `finish`: the launcher is gone, so the rank must stop. */
  onLost: (reason: string) => void;
  /** A control frame that could not be read: reported, and ignored (the job goes on). */
  onError: (err: DsError) => void;
}

/** The rank's end of the control protocol (a WebSocket, or a rank thread's MessagePort). */
export interface ControlLink {
  /** Resolves once the message is on its way. */
  send(msg: RankToCoordinator): Promise<void>;
  close(): void;
}
