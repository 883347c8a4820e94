import type { MessagePort } from 'node:worker_threads';
import type { TraceEvent } from '../protocol/trace-event.ts';
import { threadArrivalsKey, threadLinksKey, threadRingsKey } from '../protocol/rendezvous.ts';
import type { Transport } from '../transport.ts';
import { BusyPoll } from './busy-poll.ts';
import { FaultyTransport } from './faulty.ts';
import type { JobEnv } from './launch-env.ts';
import { PortTransport, type ThreadRings } from './port.ts';
import { threadRankData } from './thread-data.ts';
import { TraceFile } from './trace-file.ts';

/** What polling and tracing need of the rank's engine (runtime/engine.ts). */
export interface PolledRank {
  waitingForMessage(): boolean;
  onWait(listener: () => void): void;
  onSpin(spinner: (ready: () => boolean) => Promise<boolean>): void;
  onPeerLost(listener: (rank: number, reason: string) => void): void;
}

/** A rank's links to the other ranks of a dsrun job, as chooseTransport() set them up. */
export interface RankTransport {
  /** What the engine sends through: the links, or dsrun's fault-and-trace layer around them. */
  readonly transport: Transport;
  /** The ranks are worker threads of one process (dsrun --threads). */
  readonly threads: boolean;
  /** The address peers dial ('' for thread ranks, which are joined from the start). */
  readonly address: string;
  /** Thread ranks count themselves into barriers here (shared memory), unless messages are faulted or traced. */
  readonly worldArrivals: Int32Array | undefined;
  /** With --trace, where the engine records its events (collectives, failures...). */
  readonly trace: ((event: Omit<TraceEvent, 't' | 'rank' | 'lamport'>) => void) | undefined;
  /** The coordinator told the address of `peer` (ws links dial it on the first send). */
  learnAddress(peer: number, address: string): void;
  /** The coordinator declared `peer` lost: its link goes. */
  forget(peer: number, reason: string): void;
  /** The job's time 0 (epoch ms): partition windows count from it. */
  setStart(t0: number): void;
  /** Records an event of this rank in its trace (nothing without --trace). */
  record(event: Omit<TraceEvent, 't' | 'rank' | 'lamport'>): void;
  /** Closes the trace file, if any. */
  closeTrace(): void;
  /** Polls while `rank` waits for a message (--poll), and traces its peers' loss. */
  attach(rank: PolledRank): void;
}

/**
 * The transport of a rank under dsrun: MessagePorts when the ranks are worker threads (dsrun
 * --threads; with shared rings when they poll), else WebSockets; wrapped in the fault-and-trace
 * layer (faulty.ts) under --trace, --drop, --delay or --partition.
 */
export async function chooseTransport(env: JobEnv): Promise<RankTransport> {
  const { rank, size } = env;
  const addresses = new Map<number, string>();
  const addressWaiters = new Map<number, Array<(address: string) => void>>();
  const fromLauncher = threadRankData();
  const threadLinks = fromLauncher?.[threadLinksKey] as MessagePort[] | undefined;
  // With polling, thread ranks also share rings (shared-ring.ts).
  const rings = fromLauncher?.[threadRingsKey] as Omit<ThreadRings, 'rank'> | undefined;
  // The WebSocket transport is loaded only for process ranks: thread ranks never run it.
  const links = threadLinks
    ? new PortTransport(threadLinks, env.maxPayload, rings && { rank, ...rings })
    : await (
        await import('./ws.ts')
      ).WsTransport.listen({
        rank,
        size,
        jobId: env.jobId,
        key: env.key,
        host: env.host,
        localDir: env.localDir,
        maxPayload: env.maxPayload,
        tls: env.tls,
        resolve: (peer) => {
          const known = addresses.get(peer);
          if (known) return Promise.resolve(known);
          return new Promise((resolve) => addressWaiters.set(peer, [...(addressWaiters.get(peer) ?? []), resolve]));
        },
      });
  const traceFile = env.tracePath ? new TraceFile(env.tracePath) : undefined;
  const faulty =
    env.faults || traceFile ? new FaultyTransport(links, { rank, seed: env.seed, faults: env.faults ?? {}, trace: traceFile }) : undefined;
  return {
    transport: faulty ?? links,
    threads: !!threadLinks,
    address: links instanceof PortTransport ? '' : links.address,
    // Faulted or traced, barriers stay messages, to be dropped, delayed and drawn like any other.
    worldArrivals: threadLinks && !faulty ? new Int32Array(fromLauncher![threadArrivalsKey] as SharedArrayBuffer) : undefined,
    trace: traceFile && faulty ? (event) => faulty.record(event) : undefined,
    learnAddress: (peer, address) => {
      addresses.set(peer, address);
      for (const w of addressWaiters.get(peer) ?? []) w(address);
      addressWaiters.delete(peer);
    },
    forget: (peer, reason) => links.forget(peer, reason),
    setStart: (t0) => faulty?.setStart(t0),
    record: (event) => faulty?.record(event),
    closeTrace: () => traceFile?.close(),
    attach: (engine) => {
      if (faulty) engine.onPeerLost((peer) => faulty.record({ ev: 'detect', from: peer }));
      // A process rank keeps its event loop turning while it waits for a message.
      if (env.poll && !threadLinks) {
        const poll = new BusyPoll(() => engine.waitingForMessage());
        engine.onWait(() => poll.kick());
      }
      // Thread ranks that poll spin on their rings while a receive or a barrier waits.
      const poller = links instanceof PortTransport ? links.poller : undefined;
      if (poller) {
        poller.pollWhile(() => engine.waitingForMessage());
        engine.onWait(() => poller.kick());
        engine.onSpin((ready) => poller.until(ready));
      }
    },
  };
}
