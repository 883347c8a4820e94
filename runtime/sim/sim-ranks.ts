import type { Communicator } from '../communicator.ts';
import { Engine } from '../engine.ts';
import { DsError, ErrorCode } from '../errors.ts';
import type { TraceEvent } from '../protocol/trace-event.ts';
import { seededRandom, type Random } from '../random.ts';
import { startRank } from '../start-rank.ts';
import { msgpackCodec } from '../transport/codec.ts';
import type { EventId } from './event-queue.ts';
import { msToUs, type PlannedCrash } from './faults.ts';
import type { Scheduler } from './scheduler.ts';
import type { Fail } from './sim-error.ts';
import { SimMembership } from './sim-membership.ts';
import { SimNetwork, type RankHooks } from './sim-network.ts';
import type { SimSettings } from './sim-options.ts';
import { simSpawnService, type SimSpawnContext, type SpawnSlot } from './sim-spawn.ts';
import { SimStorage } from './storage.ts';
import type { TraceRecorder } from './trace.ts';
import { VirtualClock } from './virtual-clock.ts';

const NEVER = new Promise<void>(() => {});

/** PRNG stream of the simulated network, apart from the ranks' streams 0..n-1. */
const NETWORK_STREAM = 0x7ffffff0;
/** First PRNG stream of the links' own streams (per-rank clocks): link from → to draws from this + from·2¹⁶ + to. */
const LINK_STREAMS = 0x40000000;

/** Each link's own stream of the seed, made on its first message. */
function linkStreams(seed: number): (from: number, to: number) => Random {
  const streams = new Map<number, Random>();
  return (from, to) => {
    const stream = LINK_STREAMS + from * 0x10000 + to;
    let random = streams.get(stream);
    if (!random) streams.set(stream, (random = seededRandom(seed, stream)));
    return random;
  };
}

interface Slot extends SpawnSlot {
  rank: number;
  /** Incarnation: 0 at the start, +1 per restart. */
  inc: number;
  alive: boolean;
  /** Crash-stopped: never comes back. */
  stopped: boolean;
  done: boolean;
  result: unknown;
  engine: Engine | undefined;
  sends: number;
  deliveries: number;
  restarts: number;
  /** Crashes still to come on this rank's k-th send or delivery. */
  triggers: PlannedCrash[];
}

/**
 * The ranks of a simulation and their lives: each starts on its own engine over the simulated
 * network, and may crash (for good, or to restart later with only its durable storage), pause and
 * resume, spawn ranks or retire. A crash can be planned on a rank's k-th send or delivery; the
 * network reports those through the RankHooks this class implements.
 */
export class SimRanks implements RankHooks {
  readonly network: SimNetwork;
  readonly storage: SimStorage;
  /** Non-fatal reports of ranks (bad frames...). */
  readonly reports: Array<{ rank: number; message: string }> = [];
  /** Errors thrown by ranks' programs (with rankErrors: 'record'), by rank. */
  readonly errors: unknown[];
  private readonly slots: Slot[];
  private readonly settings: SimSettings;
  private readonly main: (comm: Communicator) => unknown;
  private readonly scheduler: Scheduler;
  private readonly trace: TraceRecorder;
  private readonly fail: Fail;
  /** The ranks started with the run: the world of every rank but those spawned later. */
  private readonly world: number[];
  /** Crash-stopped ranks: a restarted rank is told of them at once. */
  private readonly stopped = new Set<number>();
  private readonly membership: SimMembership;
  private readonly spawning: SimSpawnContext<Slot>;
  private faultEvents = 0;

  constructor(
    settings: SimSettings,
    /** Crashes planned on a rank's k-th send or delivery. */
    triggers: readonly PlannedCrash[],
    main: (comm: Communicator) => unknown,
    scheduler: Scheduler,
    trace: TraceRecorder,
    fail: Fail,
  ) {
    const { n, seed } = settings;
    this.settings = settings;
    this.main = main;
    this.scheduler = scheduler;
    this.trace = trace;
    this.fail = fail;
    this.storage = new SimStorage(n);
    this.errors = new Array(n).fill(undefined);
    this.world = Array.from({ length: n }, (_, r) => r);
    this.slots = this.world.map((rank) =>
      newSlot(
        rank,
        triggers.filter((c) => c.rank === rank),
      ),
    );
    this.network = new SimNetwork(n, {
      scheduler,
      random: seededRandom(seed, NETWORK_STREAM),
      linkRandom: settings.rankClocks ? linkStreams(seed) : undefined,
      faults: settings.faults,
      trace,
      hooks: this,
      maxPayload: settings.maxPayload,
      restarts: settings.injectFaults?.restarts,
    });
    // The referee of shrink() and agree(): a rank crashed for good, retired or finished takes no part.
    this.membership = new SimMembership((r) => {
      const s = this.slots[r];
      return !s || s.stopped || s.retired || (s.alive && s.done);
    });
    this.spawning = {
      slots: this.slots,
      network: this.network,
      scheduler,
      record: (event: TraceEvent) => trace.record(event),
      newSlot: (rank) => newSlot(rank, []),
      start: (slot) => this.start(slot),
      main,
      programs: settings.programs,
    };
  }

  /** Starts every rank of the run. */
  startAll(): void {
    for (const slot of this.slots) this.start(slot);
  }

  /** Whether every rank has finished, crashed for good or retired: the run is over. */
  get finished(): boolean {
    return this.slots.every((s) => s.stopped || s.retired || (s.alive && s.done));
  }

  /** One line per rank: finished, crashed, or what it waits on. */
  describe(): string[] {
    return this.slots.map((s) => {
      const head = `rank ${s.rank}:`;
      if (s.stopped) return `${head} crashed`;
      if (!s.alive) return `${head} down, waiting to restart`;
      if (s.done) return `${head} finished`;
      if (!s.engine) return `${head} not started`;
      const waits = s.engine.waiting().map((w) => `${w.description} since ${w.startedAt} ms`);
      const paused = this.scheduler.isPaused(s.rank) ? ' (paused)' : '';
      return `${head}${paused} waits on ${waits.length ? waits.join('; ') : 'nothing dsmpi knows of (a promise outside dsmpi?)'}`;
    });
  }

  /** Number of ranks, spawned ones included. */
  get size(): number {
    return this.slots.length;
  }

  /** Each rank's return value (of its last incarnation). */
  results<T>(): Array<T | undefined> {
    return this.slots.map((s) => s.result as T | undefined);
  }

  /** Ranks that crash-stopped. */
  crashed(): number[] {
    return this.slots.filter((s) => s.stopped).map((s) => s.rank);
  }

  /** Number of restarts of each rank. */
  restarts(): number[] {
    return this.slots.map((s) => s.restarts);
  }

  /** The identity of the next fault event of `rank` (-1: of the network), as an explorer sees it. */
  faultId(rank: number): EventId {
    return { kind: 'fault', rank, k: this.faultEvents++ };
  }

  /** Whether `rank` runs its program: alive, not finished, not retired. */
  running(rank: number): boolean {
    const s = this.slots[rank];
    return s !== undefined && s.alive && !s.done && !s.retired;
  }

  isAlive(rank: number, inc: number): boolean {
    return this.slots[rank].alive && this.slots[rank].inc === inc;
  }

  incarnation(rank: number): number {
    return this.slots[rank].inc;
  }

  afterSend(rank: number): void {
    this.fireTriggers(this.slots[rank], 'afterSends', ++this.slots[rank].sends);
  }

  afterDelivery(rank: number): void {
    this.fireTriggers(this.slots[rank], 'afterDeliveries', ++this.slots[rank].deliveries);
  }

  /**
   * A crashed incarnation's code may still be finishing a promise job: what it sends is lost, and
   * the send never completes, so that code stops there instead of running on.
   */
  crashedSend(): Promise<void> {
    return NEVER;
  }

  /** Pauses `rank` until `untilUs`: its timers and deliveries wait (nothing if it is down or paused). */
  pause(rank: number, untilUs: number): void {
    if (!this.slots[rank].alive || this.scheduler.isPaused(rank)) return;
    this.scheduler.pause(rank);
    this.trace.record({ t: this.scheduler.nowMs, ev: 'pause', rank, lamport: this.network.lamport[rank], untilMs: untilUs / 1000 });
  }

  resume(rank: number): void {
    if (!this.scheduler.isPaused(rank)) return;
    this.scheduler.resume(rank);
    this.trace.record({ t: this.scheduler.nowMs, ev: 'resume', rank, lamport: this.network.lamport[rank] });
  }

  /**
   * Crashes `rank`: for good when `restartAfterUs` is undefined (the others are told once what it
   * sent them has arrived, after detectMs), else it starts again, as a new incarnation, that much later.
   */
  crash(rank: number, restartAfterUs: number | undefined, reason: string): void {
    const { scheduler, trace, network } = this;
    const slot = this.slots[rank];
    if (!slot.alive) return;
    slot.alive = false;
    slot.engine?.halt();
    // Let what the pause held run now: timers see the rank dead, deliveries are traced as drops.
    if (scheduler.isPaused(rank)) scheduler.resume(rank);
    const untilMs = restartAfterUs === undefined ? undefined : (scheduler.nowUs + restartAfterUs) / 1000;
    trace.record({ t: scheduler.nowMs, ev: 'crash', rank, lamport: network.lamport[rank], reason, untilMs });
    if (restartAfterUs === undefined) {
      slot.stopped = true;
      this.stopped.add(rank);
      this.membership.recheck();
      for (const peer of this.slots) {
        if (peer.rank === rank) continue;
        const inc = peer.inc;
        network.afterInFlight(
          rank,
          peer.rank,
          msToUs(this.settings.faults.detectMs ?? 0),
          () => {
            // A peer down at the time learns of it when it restarts.
            if (!peer.alive || peer.inc !== inc) return;
            trace.record({ t: scheduler.nowMs, ev: 'detect', rank: peer.rank, lamport: network.lamport[peer.rank], from: rank });
            peer.engine!.peerLost(rank, 'crashed');
          },
          this.faultId(peer.rank),
        );
      }
    } else {
      slot.done = false;
      scheduler.after(
        restartAfterUs,
        () => {
          slot.inc++;
          slot.restarts++;
          slot.alive = true;
          trace.record({ t: scheduler.nowMs, ev: 'restart', rank, lamport: network.lamport[rank] });
          this.start(slot);
        },
        undefined,
        this.faultId(rank),
      );
    }
  }

  private fireTriggers(slot: Slot, key: 'afterSends' | 'afterDeliveries', count: number): void {
    const due = slot.triggers.find((c) => c[key] === count);
    if (!due) return;
    slot.triggers.splice(slot.triggers.indexOf(due), 1);
    this.crash(slot.rank, due.restartAfterUs, `after ${count} ${key === 'afterSends' ? 'sends' : 'deliveries'}`);
  }

  /** Starts the slot's current incarnation: a new engine, its world, and its program. */
  private start(slot: Slot): void {
    const { scheduler, trace, network, settings } = this;
    const { rank, inc } = slot;
    const { seed } = settings;
    const alive = (): boolean => slot.alive && slot.inc === inc;
    const engine = new Engine({
      rank,
      size: this.slots.length,
      transport: network.endpoint(rank, inc),
      recvBufferBytes: settings.recvBufferBytes,
      codec: msgpackCodec,
      clock: new VirtualClock(scheduler, rank, alive, inc),
      // A restarted rank draws a fresh random stream, still fixed by the seed.
      seed: inc === 0 ? seed : (seed ^ Math.imul(inc, 0x9e3779b9)) >>> 0,
      abort: (code, reason) => {
        if (alive()) this.fail(ErrorCode.Aborted, `rank ${rank} aborted the job`, `code ${code}: ${reason}`, rank);
      },
      report: (err) => {
        if (alive()) this.reports.push({ rank, message: err.message });
      },
      trace: (event) => {
        if (alive()) trace.record({ t: scheduler.nowMs, rank, lamport: network.lamport[rank], ...event });
      },
      storage: rank < settings.n ? this.storage.view(rank, alive) : undefined,
    });
    for (const d of this.stopped) engine.peerLost(d, 'crashed');
    for (const s of this.slots) if (s.retired) engine.peerRetired(s.rank);
    slot.engine = engine;
    slot.done = false;
    const comm = startRank(
      engine,
      { spawn: simSpawnService(this.spawning, slot, alive), membership: this.membership.service(rank, alive) },
      slot.spawn,
      this.world,
    );
    (async () => (slot.main ?? this.main)(comm))().then(
      (value) => {
        if (!alive()) return;
        slot.done = true;
        this.membership.recheck();
        slot.result = value;
        trace.record({ t: scheduler.nowMs, ev: 'exit', rank, lamport: network.lamport[rank] });
      },
      (err: unknown) => {
        if (!alive()) return;
        slot.done = true;
        this.membership.recheck();
        const message = err instanceof Error ? err.message : String(err);
        trace.record({ t: scheduler.nowMs, ev: 'exit', rank, lamport: network.lamport[rank], reason: message });
        if (settings.rankErrors === 'record') this.errors[rank] = err;
        else this.fail(err instanceof DsError ? err.code : ErrorCode.Aborted, `rank ${rank} threw`, message, rank, err);
      },
    );
  }
}

function newSlot(rank: number, triggers: PlannedCrash[]): Slot {
  return {
    rank,
    inc: 0,
    alive: true,
    stopped: false,
    done: false,
    result: undefined,
    engine: undefined,
    sends: 0,
    deliveries: 0,
    restarts: 0,
    triggers,
  };
}
