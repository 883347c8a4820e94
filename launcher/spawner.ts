import type { ChildProcess } from 'node:child_process';
import type { Buffer } from 'node:buffer';
import type { MessagePort } from 'node:worker_threads';

/**
 * Where a job's ranks run when they are not local child processes: on other hosts through agents
 * (launcher/remote-job.ts), or as threads of dsrun (launcher/thread-ranks.ts). job.ts drives what
 * `spawn` returns exactly as a local child: `kill`, 'exit' and 'error' events, `stdout`/`stderr`.
 */
export interface RankSpawner {
  readonly jobId: string;
  /** The job's ranks key (runtime/protocol/keys.ts), derived from the shared secret; never sent to an agent. */
  readonly ranksKey: Buffer;
  /** The ranks run on this machine (threads): the radix rule for ranks outnumbering cores applies. */
  readonly onThisMachine?: boolean;
  /** Address the rendezvous coordinator listens on (one the remote ranks can reach). */
  readonly coordinatorHost: string;
  /** TLS of the coordinator when the job uses TLS (it then serves wss://): its certificate, or TLS-PSK. */
  readonly coordinatorTls?: { cert: string | Buffer; key: string | Buffer } | 'psk';
  /** Connects to the hosts and hands them the program (`entry`: the bundle, or the source with --no-ship). */
  start(entry: string, args: string[], exported: Record<string, string>): Promise<void>;
  spawn(rank: number, env: NodeJS.ProcessEnv): ChildProcess;
  /**
   * Rank threads: the launcher's end of the control port `spawn` gave the rank, which the
   * coordinator serves in place of a WebSocket (Coordinator.serve); undefined for ranks that dial.
   */
  controlPort?(rank: number): MessagePort | undefined;
  /** The output prefix of a rank (`[rank r] `, or `[rank r@host] ` with --tag-host). */
  prefix(rank: number): string;
  /** How far the clock of the rank's host is ahead of this machine's, in ms (for merging traces). */
  clockOffsetMs?(rank: number): number;
  /** Why the rank's host was lost (`host a:7411 lost (...)`), if it was. */
  lostReason?(rank: number): string | undefined;
  close(): Promise<void>;
}
