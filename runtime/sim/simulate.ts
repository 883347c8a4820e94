import { writeFileSync } from 'node:fs';
import { Communicator } from '../communicator.ts';
import { Engine } from '../engine.ts';
import { DsError, ErrorCode } from '../errors.ts';
import { seededRandom } from '../random.ts';
import type { DurableStorage } from '../storage.ts';
import { formatTrace, type TraceEvent } from '../protocol/trace-event.ts';
import { msToUs, planFaults, type FaultOptions, type PlannedCrash } from './faults.ts';
import { settle, Scheduler, type EventChooser } from './scheduler.ts';
import type { EventId } from './event-queue.ts';
import { SimNetwork } from './sim-network.ts';
import { msgpackCodec } from '../transport/codec.ts';
import { SimMembership } from './sim-membership.ts';
import { SimStorage } from './storage.ts';
import { simSpawnService, type SimSpawnContext, type SpawnSlot } from './sim-spawn.ts';
import { startRank } from '../start-rank.ts';
import { summarizeTrace, type TraceSummary } from '../protocol/trace-summary.ts';
import { TraceRecorder } from './trace.ts';
import { VirtualClock } from './virtual-clock.ts';

export interface SimulateOptions {
  /** Number of ranks. */
  n: number;
  /** Decides everything: delivery order, latencies, random faults, every rank's comm.random(). */
  seed: number;
  faults?: FaultOptions;
  /** Fail the run past this much virtual time (default 600 000 ms, ten minutes). */
  timeLimitMs?: number;
  /** Fail the run after this many events (default 2 000 000): catches zero-time livelock. */
  maxSteps?: number;
  /** Also write the trace as JSONL to this path when the run ends, failed or not. */
  trace?: string;
  maxPayload?: number;
  /** Bytes of one sender's unmatched point-to-point messages a rank keeps before holding it back (default 64 MiB). */
  recvBufferBytes?: number;
  /**
   * What an error thrown by a rank's program does: 'fail' (default) ends the run with it, as an
   * uncaught error aborts a real job; 'record' keeps it in `errors` and lets the others go on.
   */
  rankErrors?: 'fail' | 'record';
  /** Programs that comm.spawn(n, { program: name }) can start (docs/dynamic-processes.md); default: `main`. */
  programs?: Record<string, (comm: Communicator) => unknown>;
  /** Picks each next event instead of the earliest (systematic exploration, explore.ts). */
  chooser?: EventChooser;
  /**
   * Called after every event, once the ranks have reacted to it: an error it throws fails the run
   * with DS_ERR_INVARIANT (a property that must always hold).
   */
  afterEvent?: () => void;
}

export interface SimulationResult<T> {
  /** Each rank's return value (of its last incarnation); undefined for a rank that crashed for good first. */
  results: Array<T | undefined>;
  /** Errors thrown by ranks' programs (with rankErrors: 'record'), by rank. */
  errors: unknown[];
  seed: number;
  n: number;
  /** Virtual time at the end, in milliseconds. */
  timeMs: number;
  /** Events run. */
  steps: number;
  trace: TraceEvent[];
  /** The trace as JSONL text: equal for equal seeds, byte for byte. */
  jsonl(): string;
  summary: TraceSummary;
  /** Ranks that crash-stopped. */
  crashed: number[];
  /** Number of restarts of each rank. */
  restarts: number[];
  /** A rank's durable storage as the run left it. */
  storage(rank: number): DurableStorage;
  /** Non-fatal reports of ranks (bad frames...). */
  reports: Array<{ rank: number; message: string }>;
}

/** A failed simulation: deadlock, time limit, or a rank's error. Carries what is needed to replay it. */
export class SimulationError extends DsError {
  readonly seed: number;
  readonly timeMs: number;
  /** The rank whose error or abort ended the run, if any. */
  readonly rank: number | undefined;
  /** One line per rank: finished, crashed, or what it waits on. */
  readonly waiting: string[];
  declare readonly trace: TraceEvent[];

  constructor(
    code: ErrorCode,
    message: string,
    details: { seed: number; timeMs: number; rank?: number; waiting: string[]; trace: TraceEvent[]; cause?: unknown },
  ) {
    super(code, `${message}\n${details.waiting.map((w) => `  ${w}`).join('\n')}`, { cause: details.cause });
    this.name = 'SimulationError';
    this.seed = details.seed;
    this.timeMs = details.timeMs;
    this.rank = details.rank;
    this.waiting = details.waiting;
    // Not enumerable: printing the error should not print the whole trace.
    Object.defineProperty(this, 'trace', { value: details.trace, enumerable: false });
  }
}

// PRNG streams of the simulator itself, apart from the ranks' streams 0..n-1.
const NETWORK_STREAM = 0x7ffffff0;
const FAULT_STREAM = 0x7ffffff1;

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
 * Runs `n` ranks of `main` (as runLocal does) on a simulated network in virtual time. The seed alone
 * decides the run: the same seed gives the same trace, byte for byte. Time jumps to the next timer or
 * delivery whenever the ranks have nothing left to do, so long timeouts cost no real time. Rejects
 * with a SimulationError on deadlock, on the time limit, or when a rank throws.
 */
export async function simulate<T>(options: SimulateOptions, main: (comm: Communicator) => Promise<T> | T): Promise<SimulationResult<T>> {
  const { n, seed } = options;
  if (!Number.isInteger(n) || n < 1) invalid(`n must be an integer >= 1, got ${String(n)}`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) invalid(`seed must be an integer 0..2^32-1, got ${String(seed)}`);
  const timeLimitMs = options.timeLimitMs ?? 600_000;
  if (!(timeLimitMs > 0)) invalid(`timeLimitMs must be > 0, got ${String(timeLimitMs)}`);
  const maxSteps = options.maxSteps ?? 2_000_000;
  const faults = options.faults ?? {};
  const plan = planFaults(faults, n, seededRandom(seed, FAULT_STREAM));

  const scheduler = new Scheduler(options.chooser);
  const trace = new TraceRecorder();
  trace.record({ t: 0, ev: 'run', seed });
  const storage = new SimStorage(n);
  const reports: Array<{ rank: number; message: string }> = [];
  const errors: unknown[] = new Array(n).fill(undefined);
  const world = Array.from({ length: n }, (_, r) => r);
  /** Crash-stopped ranks: a restarted rank is told of them at once. */
  const stopped = new Set<number>();
  const newSlot = (rank: number, triggers: Slot['triggers']): Slot => ({
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
  });
  const slots: Slot[] = world.map((rank) =>
    newSlot(
      rank,
      plan.crashes.filter((c) => c.rank === rank && c.atUs === undefined),
    ),
  );
  let failure: SimulationError | undefined;

  const describe = (): string[] =>
    slots.map((s) => {
      const head = `rank ${s.rank}:`;
      if (s.stopped) return `${head} crashed`;
      if (!s.alive) return `${head} down, waiting to restart`;
      if (s.done) return `${head} finished`;
      if (!s.engine) return `${head} not started`;
      const waits = s.engine.waiting().map((w) => `${w.description} since ${w.startedAt} ms`);
      const paused = scheduler.isPaused(s.rank) ? ' (paused)' : '';
      return `${head}${paused} waits on ${waits.length ? waits.join('; ') : 'nothing dsmpi knows of (a promise outside dsmpi?)'}`;
    });
  const fail = (code: ErrorCode, what: string, detail: string, rank?: number, cause?: unknown): void => {
    failure ??= new SimulationError(code, `simulation with seed ${seed}: ${what} at ${scheduler.nowMs} ms virtual time: ${detail}`, {
      seed,
      timeMs: scheduler.nowMs,
      rank,
      waiting: describe(),
      trace: trace.events,
      cause,
    });
  };

  const network = new SimNetwork(
    n,
    scheduler,
    seededRandom(seed, NETWORK_STREAM),
    faults,
    trace,
    {
      isAlive: (rank, inc) => slots[rank].alive && slots[rank].inc === inc,
      incarnation: (rank) => slots[rank].inc,
      afterSend: (rank) => fireTriggers(slots[rank], 'afterSends', ++slots[rank].sends),
      afterDelivery: (rank) => fireTriggers(slots[rank], 'afterDeliveries', ++slots[rank].deliveries),
    },
    options.maxPayload,
  );

  const fireTriggers = (slot: Slot, key: 'afterSends' | 'afterDeliveries', count: number): void => {
    const due = slot.triggers.find((c) => c[key] === count);
    if (!due) return;
    slot.triggers.splice(slot.triggers.indexOf(due), 1);
    crash(slot.rank, due.restartAfterUs, `after ${count} ${key === 'afterSends' ? 'sends' : 'deliveries'}`);
  };

  // The referee of shrink() and agree(): a rank crashed for good, retired or finished takes no part.
  const membership = new SimMembership((r) => {
    const s = slots[r];
    return !s || s.stopped || s.retired || (s.alive && s.done);
  });

  const start = (slot: Slot): void => {
    const { rank, inc } = slot;
    const alive = (): boolean => slot.alive && slot.inc === inc;
    const engine = new Engine({
      rank,
      size: slots.length,
      transport: network.endpoint(rank, inc),
      recvBufferBytes: options.recvBufferBytes,
      codec: msgpackCodec,
      clock: new VirtualClock(scheduler, rank, alive, inc),
      // A restarted rank draws a fresh random stream, still fixed by the seed.
      seed: inc === 0 ? seed : (seed ^ Math.imul(inc, 0x9e3779b9)) >>> 0,
      abort: (code, reason) => {
        if (alive()) fail(ErrorCode.Aborted, `rank ${rank} aborted the job`, `code ${code}: ${reason}`, rank);
      },
      report: (err) => {
        if (alive()) reports.push({ rank, message: err.message });
      },
      trace: (event) => {
        if (alive()) trace.record({ t: scheduler.nowMs, rank, lamport: network.lamport[rank], ...event });
      },
      storage: rank < n ? storage.view(rank, alive) : undefined,
    });
    for (const d of stopped) engine.peerLost(d, 'crashed');
    for (const s of slots) if (s.retired) engine.peerRetired(s.rank);
    slot.engine = engine;
    slot.done = false;
    const comm = startRank(
      engine,
      { spawn: simSpawnService(spawning, slot, alive), membership: membership.service(rank, alive) },
      slot.spawn,
      world,
    );
    (async () => (slot.main ?? main)(comm))().then(
      (value) => {
        if (!alive()) return;
        slot.done = true;
        membership.recheck();
        slot.result = value;
        trace.record({ t: scheduler.nowMs, ev: 'exit', rank, lamport: network.lamport[rank] });
      },
      (err: unknown) => {
        if (!alive()) return;
        slot.done = true;
        membership.recheck();
        const message = err instanceof Error ? err.message : String(err);
        trace.record({ t: scheduler.nowMs, ev: 'exit', rank, lamport: network.lamport[rank], reason: message });
        if (options.rankErrors === 'record') errors[rank] = err;
        else fail(err instanceof DsError ? err.code : ErrorCode.Aborted, `rank ${rank} threw`, message, rank, err);
      },
    );
  };

  const spawning: SimSpawnContext<Slot> = {
    slots,
    network,
    scheduler,
    record: (event) => trace.record(event),
    newSlot: (rank) => newSlot(rank, []),
    start,
    main,
    programs: options.programs,
  };

  let faultEvents = 0;
  const faultId = (rank: number): EventId => ({ kind: 'fault', rank, k: faultEvents++ });

  const crash = (rank: number, restartAfterUs: number | undefined, reason: string): void => {
    const slot = slots[rank];
    if (!slot.alive) return;
    slot.alive = false;
    slot.engine?.halt();
    // Let what the pause held run now: timers see the rank dead, deliveries are traced as drops.
    if (scheduler.isPaused(rank)) scheduler.resume(rank);
    const untilMs = restartAfterUs === undefined ? undefined : (scheduler.nowUs + restartAfterUs) / 1000;
    trace.record({ t: scheduler.nowMs, ev: 'crash', rank, lamport: network.lamport[rank], reason, untilMs });
    if (restartAfterUs === undefined) {
      slot.stopped = true;
      stopped.add(rank);
      membership.recheck();
      for (const peer of slots) {
        if (peer.rank === rank) continue;
        const inc = peer.inc;
        network.afterInFlight(
          rank,
          peer.rank,
          msToUs(faults.detectMs ?? 0),
          () => {
            // A peer down at the time learns of it when it restarts.
            if (!peer.alive || peer.inc !== inc) return;
            trace.record({ t: scheduler.nowMs, ev: 'detect', rank: peer.rank, lamport: network.lamport[peer.rank], from: rank });
            peer.engine!.peerLost(rank, 'crashed');
          },
          faultId(peer.rank),
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
          start(slot);
        },
        undefined,
        faultId(rank),
      );
    }
  };

  for (const p of plan.partitions) {
    scheduler.at(p.atUs, () => network.startPartition(p), undefined, faultId(-1));
    scheduler.at(p.untilUs, () => network.healPartition(p), undefined, faultId(-1));
  }
  for (const c of plan.crashes) {
    if (c.atUs !== undefined) scheduler.at(c.atUs, () => crash(c.rank, c.restartAfterUs, 'scheduled'), undefined, faultId(c.rank));
  }
  for (const p of plan.pauses) {
    scheduler.at(
      p.atUs,
      () => {
        if (!slots[p.rank].alive || scheduler.isPaused(p.rank)) return;
        scheduler.pause(p.rank);
        trace.record({ t: scheduler.nowMs, ev: 'pause', rank: p.rank, lamport: network.lamport[p.rank], untilMs: p.untilUs / 1000 });
      },
      undefined,
      faultId(p.rank),
    );
    scheduler.at(
      p.untilUs,
      () => {
        if (!scheduler.isPaused(p.rank)) return;
        scheduler.resume(p.rank);
        trace.record({ t: scheduler.nowMs, ev: 'resume', rank: p.rank, lamport: network.lamport[p.rank] });
      },
      undefined,
      faultId(p.rank),
    );
  }

  for (const slot of slots) start(slot);
  const limitUs = msToUs(timeLimitMs);
  for (;;) {
    await settle();
    if (options.afterEvent && !failure) {
      try {
        options.afterEvent();
      } catch (err) {
        fail(ErrorCode.Invariant, 'invariant broken', err instanceof Error ? err.message : String(err), undefined, err);
      }
    }
    if (failure) break;
    if (slots.every((s) => s.stopped || s.retired || (s.alive && s.done))) break;
    const next = scheduler.nextTimeUs();
    if (next === undefined) {
      fail(ErrorCode.Deadlock, 'deadlock', 'no event is left to run, yet ranks wait');
      break;
    }
    if (next > limitUs) {
      fail(ErrorCode.TimeLimit, 'time limit', `the next event is at ${next / 1000} ms, past timeLimitMs ${timeLimitMs}`);
      break;
    }
    if (scheduler.steps >= maxSteps) {
      fail(ErrorCode.TimeLimit, 'step limit', `${maxSteps} events run (maxSteps); a livelock?`);
      break;
    }
    scheduler.step();
  }
  if (options.trace) writeFileSync(options.trace, formatTrace(trace.events));
  if (failure) throw failure;

  return {
    results: slots.map((s) => s.result as T | undefined),
    errors,
    seed,
    n,
    timeMs: scheduler.nowMs,
    steps: scheduler.steps,
    trace: trace.events,
    jsonl: () => trace.jsonl(),
    summary: summarizeTrace(trace.events, slots.length),
    crashed: slots.filter((s) => s.stopped).map((s) => s.rank),
    restarts: slots.map((s) => s.restarts),
    storage: (rank) => storage.of(rank),
    reports,
  };
}

function invalid(message: string): never {
  throw new DsError(ErrorCode.InvalidArgument, `simulate: ${message}`);
}
