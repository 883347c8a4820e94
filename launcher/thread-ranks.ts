import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { availableParallelism } from 'node:os';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { nanoid } from 'nanoid';
import { randomKey } from '../runtime/protocol/keys.ts';
import { Env, pollWanted, threadArrivalsKey, threadControlKey, threadLinksKey, threadRingsKey } from '../runtime/protocol/rendezvous.ts';
import { barrierMemory, bellMemory, ringMemory } from '../runtime/protocol/thread-rings.ts';
import type { RankSpawner } from './spawner.ts';
import { rankMain } from './bundle.ts';

/** Thread ranks poll only up to this many: their rings take n × n × 64 KiB of shared memory. */
const MAX_POLLING_THREADS = 64;

/** A rank that is a worker thread of dsrun, seen by job.ts as a child process. */
class ThreadChild extends EventEmitter {
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly pid = process.pid;
  private ended = false;

  constructor(
    private readonly worker: Worker,
    prefix: string,
    private readonly stdin?: Readable,
  ) {
    super();
    this.stdout = worker.stdout;
    this.stderr = worker.stderr;
    // Standard input goes to rank 0, as with mpirun; the other ranks read end-of-file.
    if (stdin) stdin.pipe(worker.stdin!);
    else worker.stdin?.end();
    // An error the program did not catch before run() took over (a bad import, a throw at the top
    // level): reported on the rank's stderr with exit code 1, as a process would.
    worker.on('error', (err) => {
      if (this.ended) return;
      const lines = (err.stack ?? String(err)).split('\n');
      process.stderr.write(lines.map((line) => `${prefix}${line}\n`).join(''));
      this.finish(1, null);
    });
    worker.on('exit', (code) => this.finish(code, null));
  }

  /** Every signal ends the thread at once: a thread cannot be stopped and resumed, or asked to finish. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (this.ended) return false;
    void this.worker.terminate();
    this.finish(null, signal);
    return true;
  }

  /**
   * Reports the end of the rank as soon as it is certain, before the thread has quite stopped: its
   * peers see their links close then, and dsrun must already know which rank failed first.
   */
  private finish(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.ended) return;
    this.ended = true;
    if (this.stdin) {
      // Stop reading dsrun's input, so that it does not keep dsrun alive.
      this.stdin.unpipe(this.worker.stdin!);
      this.stdin.destroy();
    }
    process.nextTick(() => this.emit('exit', code, signal));
  }
}

/**
 * dsrun --threads: the job's ranks run as worker threads of the launcher's own process, joined by
 * one MessageChannel per pair (runtime/transport/port.ts) instead of sockets. Each thread still
 * registers with the coordinator, over a MessageChannel of its own (Coordinator.serve), so job.ts
 * drives it like a process.
 */
export class ThreadSpawner implements RankSpawner {
  readonly jobId = nanoid(12);
  readonly ranksKey = randomKey();
  readonly coordinatorHost = '127.0.0.1';
  readonly onThisMachine = true;
  private entry = '';
  private args: string[] = [];
  /** links[a][b]: rank a's end of the channel to rank b. */
  private readonly links: Array<Array<MessagePort | undefined>>;
  /** The coordinator's end of each started rank's control channel, until the coordinator takes it. */
  private readonly controls = new Map<number, MessagePort>();
  /** The rings and doorbells of ranks that poll (null: they do not), made at the first spawn. */
  private rings: { rings: SharedArrayBuffer; bells: SharedArrayBuffer } | null | undefined;
  /** The world barrier's memory, which every rank thread shares; made with the rings. */
  private arrivals: SharedArrayBuffer | undefined;

  constructor(
    private readonly np: number,
    private readonly quiet: boolean,
  ) {
    this.links = Array.from({ length: np }, () => new Array<MessagePort | undefined>(np));
    for (let a = 0; a < np; a++) {
      for (let b = a + 1; b < np; b++) {
        const { port1, port2 } = new MessageChannel();
        this.links[a][b] = port1;
        this.links[b][a] = port2;
      }
    }
  }

  async start(entry: string, args: string[]): Promise<void> {
    this.entry = entry;
    this.args = args;
  }

  spawn(rank: number, env: NodeJS.ProcessEnv): ChildProcess {
    const ports = this.links[rank];
    if (!ports) throw new Error(`rank ${rank} is past the job's ${this.np} threads`);
    // Every rank polls or none does: the first rank's environment decides (dsrun sets the same for all).
    if (this.rings === undefined) {
      const poll = pollWanted(env[Env.poll], this.np, availableParallelism()) && this.np <= MAX_POLLING_THREADS;
      this.rings = poll ? { rings: ringMemory(this.np), bells: bellMemory(this.np) } : null;
      this.arrivals = barrierMemory(this.np, poll);
    }
    const control = new MessageChannel();
    this.controls.set(rank, control.port1);
    // As a rank process runs it (launcher/rank-main.cjs): from V8's code cache, stack traces mapped.
    const worker = new Worker(rankMain, {
      argv: [this.entry, ...this.args],
      env: { ...env, [Env.thread]: '1' },
      stdin: true,
      stdout: true,
      stderr: true,
      workerData: {
        [threadLinksKey]: ports,
        [threadControlKey]: control.port2,
        [threadArrivalsKey]: this.arrivals,
        [threadRingsKey]: this.rings ?? undefined,
      },
      transferList: [control.port2, ...ports.filter((p): p is MessagePort => p !== undefined)],
    });
    return new ThreadChild(worker, this.prefix(rank), rank === 0 ? process.stdin : undefined) as unknown as ChildProcess;
  }

  controlPort(rank: number): MessagePort | undefined {
    const port = this.controls.get(rank);
    this.controls.delete(rank);
    return port;
  }

  prefix(rank: number): string {
    return this.quiet ? '' : `[rank ${rank}] `;
  }

  async close(): Promise<void> {}
}
