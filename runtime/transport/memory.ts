import { aliveOnlyHooks, InProcessNetwork, type DeliveryScheduler, type NetworkEndpoint } from './in-process-network.ts';

export interface MemoryNetworkOptions {
  maxPayload?: number;
}

/**
 * Real time for the in-process network: every event runs on the next event-loop turn, in the order
 * it was scheduled (so in send order, FIFO overall and hence per pair). Zero latency: the clock
 * never moves.
 */
class NextTurn implements DeliveryScheduler {
  readonly nowUs = 0;
  readonly nowMs = 0;
  private queue: Array<() => void> = [];
  private scheduled = false;

  at(_timeUs: number, run: () => void): void {
    this.queue.push(run);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.runAll);
    }
  }

  private readonly runAll = (): void => {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    for (const run of batch) run();
  };
}

/**
 * The in-process network of `runLocal`: real time, no faults, no trace, one incarnation per rank.
 * Messages travel encoded, as on a real network.
 */
export class MemoryNetwork extends InProcessNetwork {
  readonly size: number;
  private readonly alive: boolean[];
  private readonly endpoints: NetworkEndpoint[] = [];

  constructor(size: number, options: MemoryNetworkOptions = {}) {
    const alive = new Array<boolean>(size).fill(true);
    super(size, {
      scheduler: new NextTurn(),
      // No faults to draw: the latencies drawn are the least, and NextTurn ignores them anyway.
      random: () => 0,
      maxPayload: options.maxPayload,
      hooks: aliveOnlyHooks(alive),
    });
    this.size = size;
    this.alive = alive;
    for (let r = 0; r < size; r++) this.endpoints.push(super.endpoint(r, 0));
  }

  /** Rank `rank`'s transport (the same one each time). */
  override endpoint(rank: number): NetworkEndpoint {
    return this.endpoints[rank];
  }

  /**
   * Crash-stops `rank`: what it has in flight is lost, nothing more is delivered to or from it, and
   * the others are told at once.
   */
  kill(rank: number, reason = 'killed'): void {
    if (!this.alive[rank]) return;
    this.alive[rank] = false;
    this.loseInFlight(rank);
    for (const ep of this.endpoints) if (ep.rank !== rank && this.alive[ep.rank]) ep.events?.onPeerLost(rank, reason);
  }

  /** Injects a raw frame as if `from` had sent it (for protocol tests). */
  inject(from: number, to: number, frame: Uint8Array): void {
    this.send(from, 0, to, frame);
  }
}
