import { DsError, ErrorCode } from '../errors.ts';
import type { Transport, TransportEvents } from './transport.ts';

export interface MemoryNetworkOptions {
  maxPayload?: number;
}

/**
 * Ranks of one process joined by in-memory queues. Messages travel encoded, as on a real network,
 * and are delivered in send order (FIFO overall, hence per pair) on a later event-loop turn.
 */
export class MemoryNetwork {
  readonly size: number;
  readonly maxPayload: number;
  private readonly endpoints: MemoryEndpoint[] = [];
  private queue: Array<[from: number, to: number, message: Uint8Array]> = [];
  private scheduled = false;
  private readonly alive: boolean[];

  constructor(size: number, options: MemoryNetworkOptions = {}) {
    this.size = size;
    this.maxPayload = options.maxPayload ?? 64 * 1024 * 1024;
    this.alive = new Array(size).fill(true);
    for (let r = 0; r < size; r++) this.endpoints.push(new MemoryEndpoint(this, r));
  }

  endpoint(rank: number): Transport {
    return this.endpoints[rank];
  }

  /** Crash-stops `rank`: nothing more is delivered to or from it, and the others are told. */
  kill(rank: number, reason = 'killed'): void {
    if (!this.alive[rank]) return;
    this.alive[rank] = false;
    for (const ep of this.endpoints) if (ep.rank !== rank && this.alive[ep.rank]) ep.events?.onPeerLost(rank, reason);
  }

  /** Injects a raw frame as if `from` had sent it (for protocol tests). */
  inject(from: number, to: number, frame: Uint8Array): void {
    this.enqueue(from, to, frame);
  }

  /** @internal */
  enqueue(from: number, to: number, message: Uint8Array): void {
    if (!this.alive[from] || !this.alive[to]) return;
    this.queue.push([from, to, message]);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.deliver());
    }
  }

  private deliver(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    for (const [from, to, message] of batch) {
      if (this.alive[from] && this.alive[to]) this.endpoints[to].events?.onFrame(from, message);
    }
  }
}

class MemoryEndpoint implements Transport {
  readonly rank: number;
  events: TransportEvents | undefined;
  private readonly network: MemoryNetwork;
  private closed = false;

  constructor(network: MemoryNetwork, rank: number) {
    this.network = network;
    this.rank = rank;
  }

  get maxPayload(): number {
    return this.network.maxPayload;
  }

  start(events: TransportEvents): void {
    this.events = events;
  }

  send(peer: number, message: Uint8Array): void {
    if (this.closed) throw new DsError(ErrorCode.Closed, `send to rank ${peer}: transport closed`);
    this.network.enqueue(this.rank, peer, message);
  }

  /** In memory there is no link to drop: the engine has already discarded the bad frame. */
  drop(): void {}

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
  }
}
