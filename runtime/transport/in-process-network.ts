import { DsError, ErrorCode } from '../errors.ts';
import { Kind } from '../wire.ts';
import type { TraceEvent } from '../protocol/trace-event.ts';
import { decodeFrame } from './codec.ts';
import { messageEvent, payloadPreview, type TracedMessage } from './trace-label.ts';
import { drawLatencyUs, isCut, latencyRangeUs, msToUs, spared, type Cut, type DelaySpec } from './fault-rules.ts';
import type { Transport, TransportEvents } from '../transport.ts';

/** What the network asks of whoever runs the ranks about them. */
export interface RankHooks {
  /** Whether incarnation `inc` of `rank` is the current one and running. */
  isAlive(rank: number, inc: number): boolean;
  /** The current incarnation of `rank`. */
  incarnation(rank: number): number;
  /** Called after each message a rank sends to another rank (crash-after-k-sends). */
  afterSend(rank: number): void;
  /** Called after each message handed to a rank (crash-after-k-deliveries). */
  afterDelivery(rank: number): void;
  /**
   * What a send by a crashed incarnation returns. The simulator's never completes, so the crashed
   * code stops there instead of running on; runLocal's completes, and the message is lost.
   */
  crashedSend(): void | Promise<void>;
}

/** Hooks for ranks that never restart, each alive while `alive[rank]`, whose crashed sends complete. */
export function aliveOnlyHooks(alive: readonly boolean[]): RankHooks {
  return {
    isAlive: (rank) => alive[rank],
    incarnation: () => 0,
    afterSend: () => {},
    afterDelivery: () => {},
    crashedSend: () => {},
  };
}

/** What an event is, for a scheduler that tells events apart (the simulator's EventId). */
export interface EventTag {
  kind: string;
  rank: number;
  k: number;
}

/**
 * When the network's events run. The simulator's Scheduler runs them in virtual time, one per step
 * (and may let an explorer lose a delivery instead, through `lose`); runLocal's runs them in real
 * time, all on the next event-loop turn, in the order they were scheduled.
 */
export interface DeliveryScheduler {
  readonly nowUs: number;
  readonly nowMs: number;
  at(timeUs: number, run: () => void, heldByPauseOf?: number, id?: EventTag): { lose?: () => void } | void;
}

/** The faults a network applies to each message; every one is off unless given (the simulator's FaultOptions). */
export interface LinkFaults {
  drop?: number;
  duplicate?: number;
  /** Latency of each message (default uniform 0.1..1 ms). */
  delay?: DelaySpec;
  reorder?: { probability: number; maxMs: number };
  breakFifo?: boolean;
  stableAfterMs?: number;
}

/** A partition in force until `untilUs`. */
export interface TimedCut extends Cut {
  untilUs: number;
}

export interface InProcessNetworkOptions {
  scheduler: DeliveryScheduler;
  hooks: RankHooks;
  /** Draws latencies and faults (the simulator's network stream). */
  random: () => number;
  /**
   * Draws a message's latency and faults from its link's own stream instead, so what one rank sends
   * does not change what another's messages draw (the explorer's per-rank clocks, explore.ts).
   */
  linkRandom?: (from: number, to: number) => () => number;
  faults?: LinkFaults;
  /**
   * Receives every message event. A network given neither trace nor faults never reads a frame (so
   * were it partitioned, flow control's messages would not be spared).
   */
  trace?: { record(event: TraceEvent): void };
  maxPayload?: number;
  /** See Transport.withoutFlowControl. */
  withoutFlowControl?: boolean;
}

/**
 * One rank's Transport on the in-process network. The network delivers by calling `events` of the
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

  drop(_peer: number, _reason: string): void {}

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Links are keyed from * LINK_STRIDE + to, so that ranks spawned later get keys of their own. */
const LINK_STRIDE = 1 << 20;
const NO_FAULTS: LinkFaults = {};

interface InFlight extends TracedMessage {
  from: number;
  to: number;
  /** Incarnation of the receiver when sent: a restarted receiver does not get the old one's mail. */
  toInc: number;
  message: Uint8Array;
  lamport: number;
  /** Lost unseen while in flight (loseInFlight). */
  lost: boolean;
}

/** The messages in flight on one link, oldest first (an array's shift() costs its length: a flood would be quadratic). */
class LinkQueue {
  private items: InFlight[] = [];
  private head = 0;

  push(m: InFlight): void {
    this.items.push(m);
  }

  take(): InFlight {
    const m = this.items[this.head++];
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return m;
  }

  loseAll(): void {
    for (let i = this.head; i < this.items.length; i++) this.items[i].lost = true;
  }
}

/**
 * The ranks of one process joined in memory: the network of runLocal and of the simulator. Every
 * message becomes an event of the scheduler at a latency drawn from `random`; drops, duplicates,
 * reordering and partitions are applied here, and every message event is traced. Messages from one
 * rank to another arrive in send order (the transport's FIFO contract) unless `breakFifo` is set.
 */
export class InProcessNetwork {
  readonly maxPayload: number;
  /** The engine does without flow control (Transport.withoutFlowControl). */
  readonly withoutFlowControl: boolean | undefined;
  /** Each rank's Lamport clock (the trace's; it lives on across restarts). */
  readonly lamport: number[];
  private n: number;
  private readonly scheduler: DeliveryScheduler;
  private readonly random: () => number;
  private readonly linkRandom: InProcessNetworkOptions['linkRandom'];
  private readonly faults: LinkFaults;
  private readonly trace: { record(event: TraceEvent): void } | undefined;
  /** Whether frames are decoded: for the trace, and for the fault rules that spare flow control. */
  private readonly readsFrames: boolean;
  private readonly hooks: RankHooks;
  private readonly sent: number[];
  private readonly current: Array<NetworkEndpoint | undefined>;
  /** Per link (from * n + to): latest scheduled delivery time, and messages in flight in order. */
  private readonly lastUs = new Map<number, number>();
  private readonly links = new Map<number, LinkQueue>();
  /** Per link: deliveries scheduled so far (a delivery's identity is its link and this count). */
  private readonly scheduledOnLink = new Map<number, number>();
  private readonly partitions: TimedCut[] = [];
  /** The least and greatest latency a message can draw, and the most reordering can add to it. */
  private readonly latencyRange: { leastUs: number; greatestUs: number | undefined };
  private readonly reorderUs: number;

  constructor(n: number, options: InProcessNetworkOptions) {
    this.n = n;
    this.scheduler = options.scheduler;
    this.random = options.random;
    this.linkRandom = options.linkRandom;
    this.faults = options.faults ?? NO_FAULTS;
    this.trace = options.trace;
    this.readsFrames = options.trace !== undefined || options.faults !== undefined;
    this.hooks = options.hooks;
    this.maxPayload = options.maxPayload ?? 64 * 1024 * 1024;
    this.withoutFlowControl = options.withoutFlowControl;
    this.latencyRange = latencyRangeUs(this.faults.delay);
    this.reorderUs = msToUs(this.faults.reorder?.maxMs ?? 0);
    this.lamport = new Array(n).fill(0);
    this.sent = new Array(n).fill(0);
    this.current = new Array(n).fill(undefined);
  }

  /** A transport for incarnation `inc` of `rank`; it replaces the previous incarnation's. */
  endpoint(rank: number, inc: number): NetworkEndpoint {
    const ep = new NetworkEndpoint(this, rank, inc);
    this.current[rank] = ep;
    return ep;
  }

  /** Makes room for ranks spawned during the run (runtime/spawn.ts): the network now has `n` ranks. */
  grow(n: number): void {
    while (this.n < n) {
      this.lamport.push(0);
      this.sent.push(0);
      this.current.push(undefined);
      this.n++;
    }
  }

  startPartition(p: TimedCut): void {
    this.partitions.push(p);
    this.trace?.record({
      t: this.scheduler.nowMs,
      ev: 'partition',
      from: p.from,
      to: p.to,
      oneWay: p.oneWay || undefined,
      untilMs: p.untilUs / 1000,
    });
  }

  healPartition(p: TimedCut): void {
    const i = this.partitions.indexOf(p);
    if (i >= 0) this.partitions.splice(i, 1);
    this.trace?.record({ t: this.scheduler.nowMs, ev: 'heal', from: p.from, to: p.to, oneWay: p.oneWay || undefined });
  }

  /** Whether a partition now cuts messages from `from` to `to`. */
  blocked(from: number, to: number): boolean {
    return isCut(this.partitions, from, to);
  }

  /**
   * Runs `tell` at `peer` once `delayUs` has passed and every message `lost` sent it before has
   * arrived: news of a loss comes after the data, as a closed connection does.
   */
  afterInFlight(lost: number, peer: number, delayUs: number, tell: () => void, id?: EventTag): void {
    const lastUs = this.lastUs.get(lost * LINK_STRIDE + peer) ?? 0;
    this.scheduler.at(Math.max(this.scheduler.nowUs + delayUs, lastUs), tell, peer, id);
  }

  /** @internal a send from incarnation `inc` of `from`. */
  send(from: number, inc: number, to: number, bytes: Uint8Array): void | Promise<void> {
    // A crashed incarnation's code may still be finishing a promise job: what it sends is lost.
    if (!this.hooks.isAlive(from, inc)) return this.hooks.crashedSend();
    if (!Number.isInteger(to) || to < 0 || to >= this.n || to === from) {
      throw new DsError(ErrorCode.InvalidRank, `in-process network: send from rank ${from} to rank ${to}`);
    }
    let kind = -1;
    let ctx = -1;
    let tag = -1;
    let preview: string | undefined;
    if (this.readsFrames) {
      try {
        let data: unknown;
        [kind, ctx, tag, data] = decodeFrame(bytes)[0];
        preview = payloadPreview(data, bytes.length);
      } catch {
        // Raw bytes (protocol tests): traced without a header.
      }
    }
    const lamport = ++this.lamport[from];
    const m: InFlight = {
      from,
      to,
      toInc: this.hooks.incarnation(to),
      message: bytes,
      bytes: bytes.length,
      lamport,
      lost: false,
      msg: ++this.sent[from],
      kind,
      ctx,
      tag,
      preview,
    };
    const random = this.linkRandom?.(from, to) ?? this.random;
    const latencyUs = drawLatencyUs(this.faults.delay, random);
    this.record('send', m, from, { delayMs: latencyUs / 1000 });
    const f = this.faults;
    const unstable = f.stableAfterMs === undefined || this.scheduler.nowMs < f.stableAfterMs;
    // Flow control's own messages are never lost nor duplicated, nor is a held message's request to send.
    const control = spared(kind);
    if (!control && unstable && f.drop && random() < f.drop) {
      this.record('drop', m, from, { reason: 'random' });
      this.current[from]?.events?.onDropped?.(to, bytes);
    } else {
      let extraUs = 0;
      if (unstable && f.reorder && random() < f.reorder.probability) {
        extraUs = Math.floor(random() * (msToUs(f.reorder.maxMs) + 1));
        this.record('reorder', m, from, { delayMs: extraUs / 1000 });
      }
      this.schedule(m, latencyUs + extraUs);
      if (!control && kind !== Kind.Rts && unstable && f.duplicate && random() < f.duplicate) {
        const againUs = drawLatencyUs(f.delay, random);
        this.record('duplicate', m, from, { delayMs: againUs / 1000 });
        this.current[from]?.events?.onDuplicated?.(to, bytes);
        this.schedule(m, latencyUs + extraUs + againUs);
      }
    }
    this.hooks.afterSend(from);
    if (!this.hooks.isAlive(from, inc)) return this.hooks.crashedSend();
  }

  private schedule(m: InFlight, latencyUs: number): void {
    const link = m.from * LINK_STRIDE + m.to;
    let timeUs = this.scheduler.nowUs + latencyUs;
    const fifo = !this.faults.breakFifo;
    const lastUs = this.lastUs.get(link) ?? 0;
    if (fifo) timeUs = Math.max(timeUs, lastUs);
    this.lastUs.set(link, Math.max(timeUs, lastUs));
    let queue: LinkQueue | undefined;
    if (fifo) {
      queue = this.links.get(link);
      if (!queue) this.links.set(link, (queue = new LinkQueue()));
      queue.push(m);
    }
    // In FIFO mode the event delivers whatever heads the link, so a pause that holds events back and
    // puts them in again cannot swap two messages of one link.
    const q = queue;
    const k = this.scheduledOnLink.get(link) ?? 0;
    this.scheduledOnLink.set(link, k + 1);
    // The window an explorer may deliver it in: any latency the network could have drawn.
    const { leastUs, greatestUs } = this.latencyRange;
    const earliestUs = this.scheduler.nowUs + leastUs;
    const latestUs = greatestUs === undefined ? timeUs : Math.max(timeUs, this.scheduler.nowUs + greatestUs + this.reorderUs);
    const id = { kind: 'deliver' as const, rank: m.to, from: m.from, k, earliestUs, latestUs };
    const event = this.scheduler.at(timeUs, () => this.deliver(q ? q.take() : m), m.to, id);
    if (event) event.lose = () => this.record('drop', q ? q.take() : m, m.from, { reason: 'chosen' });
  }

  /**
   * Loses, untraced, every message `rank` has in flight, so that peers told of its loss at once get
   * nothing of it afterwards (runLocal's kill). Needs per-link FIFO, where each link keeps its queue.
   */
  loseInFlight(rank: number): void {
    for (const [link, queue] of this.links) if (Math.floor(link / LINK_STRIDE) === rank) queue.loseAll();
  }

  private deliver(m: InFlight): void {
    if (m.lost) return;
    if (!this.hooks.isAlive(m.to, m.toInc)) {
      this.record('drop', m, m.from, { reason: 'crashed' });
      return;
    }
    if (this.blocked(m.from, m.to) && !spared(m.kind)) {
      this.record('drop', m, m.from, { reason: 'partition' });
      this.current[m.from]?.events?.onDropped?.(m.to, m.message);
      return;
    }
    this.lamport[m.to] = Math.max(this.lamport[m.to], m.lamport) + 1;
    this.record('deliver', m, m.to, {});
    // A crash on this delivery takes the rank down before it acts on the message: handed over first,
    // the program's reaction would run in a dead incarnation (its sends and writes dropped), and
    // whatever observes the program would see a step that never took effect.
    this.hooks.afterDelivery(m.to);
    if (this.hooks.isAlive(m.to, m.toInc)) this.current[m.to]?.events?.onFrame(m.from, m.message);
  }

  private record(
    ev: 'send' | 'deliver' | 'drop' | 'duplicate' | 'reorder',
    m: InFlight,
    at: number,
    extra: { delayMs?: number; reason?: string },
  ): void {
    this.trace?.record(messageEvent(this.scheduler.nowMs, ev, at, this.lamport[at], ev === 'deliver' ? m.from : m.to, m, extra));
  }
}
