import { realClock, type Clock } from './clock.ts';
import type { Communicator } from './communicator.ts';
import { startRank } from './start-rank.ts';
import { Engine } from './engine.ts';
import { DsError, ErrorCode } from './errors.ts';
import { MemoryNetwork, type MemoryNetworkOptions } from './transport/memory.ts';
import { msgpackCodec } from './transport/codec.ts';

export interface LocalOptions extends MemoryNetworkOptions {
  /** Number of ranks. */
  n: number;
  /** Job seed for every rank's random() (default 1). */
  seed?: number;
  clock?: Clock;
  /** Receives non-fatal reports (bad frames...) instead of stderr. */
  report?: (rank: number, err: Error) => void;
  /** Radix of the collectives' k-nomial trees (dsrun's DSMPI_COLL_RADIX); default: latency-optimal algorithms. */
  collectiveRadix?: number;
  /** Bytes of one sender's unmatched point-to-point messages a rank keeps before holding it back (default 64 MiB). */
  recvBufferBytes?: number;
}

export interface LocalJob<T> {
  network: MemoryNetwork;
  comms: Communicator[];
  /** Each rank's result, in rank order; rejects with the first rank's error (or an abort). */
  results: Promise<T[]>;
}

/**
 * Starts `n` ranks of `main` in this process over the in-memory network, with real time. Handy for
 * tests and notebooks; the deterministic simulator builds on the same parts.
 */
export function startLocal<T>(options: LocalOptions, main: (comm: Communicator) => Promise<T> | T): LocalJob<T> {
  const network = new MemoryNetwork(options.n, options);
  let abortJob: (err: Error) => void = () => {};
  const aborted = new Promise<never>((_, reject) => {
    abortJob = reject;
  });
  aborted.catch(() => {});
  const comms = Array.from({ length: options.n }, (_, rank) => {
    const engine = new Engine({
      codec: msgpackCodec,
      rank,
      size: options.n,
      transport: network.endpoint(rank),
      clock: options.clock ?? realClock,
      seed: options.seed ?? 1,
      collectiveRadix: options.collectiveRadix,
      recvBufferBytes: options.recvBufferBytes,
      abort: (code, reason) => abortJob(new DsError(ErrorCode.Aborted, `job aborted with code ${code}: ${reason}`)),
      report: options.report ? (err) => options.report!(rank, err) : undefined,
    });
    return startRank(engine, {});
  });
  // Mains start on a later turn, so the caller holds the returned job before any rank runs.
  const started = Promise.resolve();
  const results = Promise.race([Promise.all(comms.map((comm) => started.then(() => main(comm)))), aborted]);
  return { network, comms, results };
}

/** Runs `n` ranks of `main` in this process and resolves to their results in rank order. */
export async function runLocal<T>(options: LocalOptions | number, main: (comm: Communicator) => Promise<T> | T): Promise<T[]> {
  const job = startLocal(typeof options === 'number' ? { n: options } : options, main);
  try {
    return await job.results;
  } finally {
    await Promise.all(job.comms.map((c) => c.engine.shutdown()));
  }
}
