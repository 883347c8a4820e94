import { DsError, ErrorCode } from '../errors.ts';
import type { Transport, TransportEvents } from '../transport.ts';

export interface MemoryNetworkOptions {
  maxPayload?: number;
}

/**
 * A network inside one process: what a `NetworkEndpoint` hands its sends to. The in-memory network
 * of `runLocal` (below) and the simulator's (runtime/sim/sim-network.ts) both are one, so every rank
 * of either sees the same Transport.
 */
export interface InProcessNetwork {
  readonly maxPayload: number;
  /** See Transport.withoutFlowControl. */
  readonly withoutFlowControl?: boolean;
  /** Takes one message of incarnation `inc` of rank `from` for rank `to`. */
  send(from: number, inc: number, to: number, message: Uint8Array): void | Promise<void>;
}

/**
 * One rank's Transport on an in-process network. The network delivers by calling `events` of the
 * receiving endpoint. No link to drop: the engine has already discarded the bad frame. Nothing to
 * flush: a send is in the network once `send` returns.
 */
export class NetworkEndpoint implements Transport {
  readonly rank: number;
  /** The rank's incarnation (the simulator restarts ranks; runLocal's are all 0). */
  readonly inc: number;
  events: TransportEvents | undefined;
  private readonly network: InProcessNetwork;
  private closed = false;

  constructor(network: InProcessNetwork, rank: number, inc = 0) {
    this.network = network;
    this.rank = rank;
    this.inc = inc;
  }

  get maxPayload(): number {
    return this.network.maxPayload;
  }

  get withoutFlowControl(): boolean | undefined {
    return this.network.withoutFlowControl;
  }

  start(events: TransportEvents): void {
    this.events = events;
  }

  send(peer: number, message: Uint8Array): void | Promise<void> {
    if (this.closed) throw new DsError(ErrorCode.Closed, `send to rank ${peer}: transport closed`);
    return this.network.send(this.rank, this.inc, peer, message);
  }

  drop(): void {}

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
  }
}

/**
 * Ranks of one process joined by in-memory queues, in real time (`runLocal`). Messages travel
 * encoded, as on a real network, and are delivered in send order (FIFO overall, hence per pair) on a
 * later event-loop turn.
 */
export class MemoryNetwork implements InProcessNetwork {
  readonly size: number;
  readonly maxPayload: number;
  private readonly endpoints: NetworkEndpoint[] = [];
  private queue: Array<[from: number, to: number, message: Uint8Array]> = [];
  private scheduled = false;
  private readonly alive: boolean[];

  constructor(size: number, options: MemoryNetworkOptions = {}) {
    this.size = size;
    this.maxPayload = options.maxPayload ?? 64 * 1024 * 1024;
    this.alive = new Array(size).fill(true);
    for (let r = 0; r < size; r++) this.endpoints.push(new NetworkEndpoint(this, r));
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
    this.send(from, 0, to, frame);
  }

  /** @internal */
  send(from: number, _inc: number, to: number, message: Uint8Array): void {
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
