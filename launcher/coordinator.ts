import type { Buffer } from 'node:buffer';
import type { MessagePort } from 'node:worker_threads';
import { decodeValue, encodeValue } from '../runtime/protocol/control-codec.ts';
import { Party, rankOf, Refusal } from '../runtime/protocol/handshake.ts';
import { tlsKey } from '../runtime/protocol/keys.ts';
import { CONTROL_MAX_FRAME, type CoordinatorToRank, type RankToCoordinator } from '../runtime/protocol/rendezvous.ts';
import { PingWatch, type Pingable } from './ping-watch.ts';
import { listenWebSocketServer, type ListeningServer, type WebSocket } from '../runtime/protocol/ws-server.ts';

export interface CoordinatorEvents {
  hello(rank: number, survive: boolean): void;
  done(rank: number): void;
  abort(rank: number, code: number, reason: string): void;
  /** A rank answered no heartbeat for `silentMs` (stopped, or stuck in a synchronous loop). */
  hung?(rank: number, silentMs: number): void;
  /** A connection refused or a bad frame: reported, never fatal to the job. */
  warn(message: string): void;
  /** comm.spawn() on `rank` (docs/dynamic-processes.md): start the ranks, resolve to their world ranks. */
  spawn?(rank: number, request: { n: number; context: number; program?: string; args?: string[] }): Promise<number[]>;
  /** `rank` called comm.retire(): it leaves the job normally. */
  retire?(rank: number): void;
}

/** The coordinator's end of a rank's control link: its WebSocket, or a rank thread's MessagePort. */
interface RankEnd {
  send(msg: CoordinatorToRank): void;
  /** Cuts the link at once. */
  terminate(): void;
}

function socketEnd(socket: WebSocket): RankEnd {
  return {
    send: (msg) => {
      if (socket.readyState === socket.OPEN) socket.send(encodeValue(msg));
    },
    terminate: () => socket.terminate(),
  };
}

/**
 * The rendezvous of a job: each rank connects once, says where it listens, and the coordinator
 * passes every address to every rank with the job's start. It also relays deaths, collects `done`, and asks for status.
 * Rank threads (dsrun --threads) are handed to it with a MessagePort each instead (serve()).
 */
export class Coordinator {
  readonly url: string;
  private readonly server: ListeningServer;
  private readonly links = new Map<number, RankEnd>();
  private readonly addresses = new Map<number, string>();
  private readonly statusWaiters = new Map<number, (waiting: Array<{ what: string; forMs: number }>) => void>();
  /** Each connected rank's heartbeat (launcher/ping-watch.ts). */
  private readonly heartbeats = new Map<number, PingWatch>();
  private heartbeatMisses = 5;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  /** Ranks that will take no part in a shrink: lost, exited, or with their program done. */
  private readonly absent = new Set<number>();
  /** Ranks may register up to this world rank (exclusive): grows as ranks are spawned. */
  private rankLimit = 0;
  /** The job's time 0 once started, for ranks that register later (spawned ranks). */
  private t0: number | undefined;
  /** How far a rank's host clock is ahead of this one (a rank on another host). */
  private clockOffsetMs: (rank: number) => number = () => 0;
  /** Ranks that retired, told to ranks that register later. */
  private readonly retiredRanks = new Set<number>();
  /** shrink() and agree() calls in progress: each caller's next free context and flag. */
  private readonly shrinks = new Map<string, { members: number[]; arrived: Map<number, { nextContext: number; flag: boolean }> }>();

  private constructor(
    server: ListeningServer,
    url: string,
    private readonly events: CoordinatorEvents,
  ) {
    this.server = server;
    this.url = url;
  }

  static async start(
    options: {
      jobId: string;
      /** The job's ranks key (runtime/protocol/keys.ts). */
      key: Buffer;
      size: number;
      host?: string;
      /** Port to listen on (default 0: any free port). */
      port?: number;
      /** Ping every rank this often (0: no heartbeats). */
      heartbeatMs?: number;
      /** A rank that has not answered for this many intervals is reported as hung. */
      heartbeatMisses?: number;
      /** Serve wss:// with this certificate, or with TLS-PSK ('psk'); the ranks then use TLS on every link. */
      tls?: { cert: string | Buffer; key: string | Buffer } | 'psk';
    },
    events: CoordinatorEvents,
  ): Promise<Coordinator> {
    const host = options.host ?? '127.0.0.1';
    const psk = tlsKey(options.key, 'control');
    let coordinator: Coordinator | undefined;
    const server = await listenWebSocketServer({
      host,
      port: options.port ?? 0,
      maxConnections: 2 * options.size + 64,
      maxPendingPerSource: options.size + 16,
      tls: options.tls === 'psk' ? { psk: (identity) => (identity === options.jobId ? psk : undefined) } : options.tls,
      purpose: 'control',
      perMessageDeflate: false,
      maxPayload: CONTROL_MAX_FRAME,
      admit: (hello) => {
        const rank = rankOf(hello.from);
        if (hello.jobId !== options.jobId) return { status: 401, reason: `a handshake of another job (${hello.jobId})` };
        if (hello.to !== Party.coordinator) return { status: 401, reason: `a handshake for ${hello.to}, not for the coordinator` };
        if (rank === undefined || rank >= coordinator!.rankLimit) return { status: 409, reason: `a connection claiming ${hello.from}` };
        return { key: options.key };
      },
      authenticated: (hello) =>
        coordinator!.links.has(rankOf(hello.from)!) ? { code: Refusal.duplicate, reason: 'the rank is registered already' } : undefined,
      opened: (hello, socket) => coordinator!.opened(rankOf(hello.from)!, socket),
      refused: (reason, from) => events.warn(`refused a connection from ${from}: ${reason}`),
    });
    coordinator = new Coordinator(server, server.url(host), events);
    coordinator.rankLimit = options.size;
    const heartbeatMs = options.heartbeatMs ?? 0;
    if (heartbeatMs > 0) {
      coordinator.heartbeatMisses = options.heartbeatMisses ?? 5;
      coordinator.heartbeatTimer = setInterval(() => {
        for (const [rank, watch] of coordinator.heartbeats) {
          const silentMs = watch.tick();
          // Reported once; the launcher ends the rank.
          if (silentMs !== undefined) events.hung?.(rank, silentMs);
        }
      }, heartbeatMs);
      coordinator.heartbeatTimer.unref();
    }
    return coordinator;
  }

  /** A rank's authenticated control connection. */
  private opened(rank: number, socket: WebSocket): void {
    this.links.set(rank, socketEnd(socket));
    // ws answers a ping from the rank's event loop: no pong means the process is stopped or busy.
    this.heartbeats.set(rank, new PingWatch(socket, this.heartbeatMisses));
    socket.on('message', (data: Buffer) => {
      let msg: RankToCoordinator;
      try {
        msg = decodeValue(data) as RankToCoordinator;
      } catch {
        this.events.warn(`malformed control frame from rank ${rank} ignored`);
        return;
      }
      this.onMessage(rank, msg);
    });
    socket.on('error', (err) => this.events.warn(`control connection of rank ${rank}: ${err.message}`));
  }

  /**
   * Serves a rank thread (dsrun --threads) on `port`, the launcher's end of the MessageChannel whose
   * other end the thread got at its start: the control protocol's messages cross as plain objects,
   * with no socket, handshake or codec (only dsrun's own threads hold such a port). Heartbeats are
   * `ping` messages, answered from the rank's event loop (runtime/transport/control-port.ts).
   */
  serve(rank: number, port: MessagePort): void {
    let open = true;
    port.on('close', () => (open = false));
    const end: RankEnd & Pingable = {
      send: (msg) => {
        if (open) port.postMessage(msg);
      },
      terminate: () => port.close(),
      ping: () => {
        if (open) port.postMessage({ t: 'ping' } satisfies CoordinatorToRank);
        return open;
      },
      onAnswer: (heard) => port.on('message', heard),
    };
    this.links.set(rank, end);
    this.heartbeats.set(rank, new PingWatch(end, this.heartbeatMisses));
    port.on('message', (msg: RankToCoordinator) => {
      if (msg.t !== 'pong') this.onMessage(rank, msg);
    });
  }

  /** Tells every connected rank that `rank` died. */
  announceLost(rank: number, reason: string): void {
    // Cut its control connection too: a rank cut off by the network would otherwise hold it open.
    this.links.get(rank)?.terminate();
    this.links.delete(rank);
    this.heartbeats.delete(rank);
    this.broadcast({ t: 'lost', rank, reason });
    this.markAbsent(rank);
  }

  /** A rank's process has ended: it will take no part in a shrink. */
  markAbsent(rank: number): void {
    if (this.absent.has(rank)) return;
    this.absent.add(rank);
    for (const key of [...this.shrinks.keys()]) this.checkShrink(key);
  }

  /** Lets ranks up to `total - 1` register (ranks spawned during the job). */
  allowRanks(total: number): void {
    this.rankLimit = Math.max(this.rankLimit, total);
  }

  /**
   * Every rank has registered: tells each the job's time 0 (epoch ms) on its own host's clock, so
   * that fault windows it times itself (--partition) open when the launcher's do, and where the
   * others listen.
   */
  start(t0: number, clockOffsetMs: (rank: number) => number = () => 0): void {
    this.t0 = t0;
    this.clockOffsetMs = clockOffsetMs;
    for (const [rank, link] of this.links) link.send(this.startMessage(rank));
  }

  finish(): void {
    this.broadcast({ t: 'finish' });
  }

  /** Asks one rank what it waits on; undefined if it does not answer within `timeoutMs`. */
  status(rank: number, timeoutMs: number): Promise<Array<{ what: string; forMs: number }> | undefined> {
    const link = this.links.get(rank);
    if (!link) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const answer = (waiting: Array<{ what: string; forMs: number }> | undefined): void => {
        clearTimeout(timer);
        if (this.statusWaiters.get(rank) === answer) this.statusWaiters.delete(rank);
        resolve(waiting);
      };
      // Timers run before sockets are read: after a stall of this process the answer may be waiting
      // unread, so the sockets get one more turn (setImmediate) before the rank counts as silent.
      const timer = setTimeout(() => setImmediate(() => answer(undefined)), timeoutMs);
      this.statusWaiters.set(rank, answer);
      link.send({ t: 'status?' });
    });
  }

  close(): Promise<void> {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    for (const link of this.links.values()) link.terminate();
    return this.server.close();
  }

  private onMessage(rank: number, msg: RankToCoordinator): void {
    const events = this.events;
    switch (msg?.t) {
      case 'hello': {
        const link = this.links.get(rank)!;
        this.addresses.set(rank, msg.address);
        // Before the start, the addresses go to each rank with it (start()): a message per rank, not
        // one per pair. A rank spawned during the job: the others learn its address, it learns
        // theirs with the start it is told, and some ranks may have retired.
        if (this.t0 !== undefined) {
          this.broadcast({ t: 'peer', rank, address: msg.address });
          link.send(this.startMessage(rank));
        }
        for (const r of this.retiredRanks) link.send({ t: 'retired', rank: r });
        events.hello(rank, !!msg.survive);
        break;
      }
      case 'spawn': {
        const link = this.links.get(rank);
        const reply = (answer: { ranks?: number[]; error?: string }): void => link?.send({ t: 'spawned', id: Number(msg.id), ...answer });
        const n = Number(msg.n);
        if (!events.spawn) reply({ error: 'this launcher cannot spawn ranks' });
        else if (!Number.isInteger(n) || n < 1) reply({ error: `bad number of ranks ${String(msg.n)}` });
        else {
          events.spawn(rank, { n, context: Number(msg.context), program: msg.program, args: msg.args }).then(
            (ranks) => reply({ ranks }),
            (err: Error) => reply({ error: err.message }),
          );
        }
        break;
      }
      case 'retire':
        this.retiredRanks.add(rank);
        this.addresses.delete(rank);
        this.links.delete(rank);
        this.heartbeats.delete(rank);
        events.retire?.(rank);
        this.broadcast({ t: 'retired', rank });
        this.markAbsent(rank);
        break;
      case 'done':
        events.done(rank);
        this.markAbsent(rank);
        break;
      case 'shrink': {
        const members = Array.isArray(msg.members) ? msg.members.map(Number) : [];
        let call = this.shrinks.get(String(msg.key));
        if (!call) {
          call = { members, arrived: new Map() };
          this.shrinks.set(String(msg.key), call);
        }
        call.arrived.set(rank, { nextContext: Number(msg.nextContext) || 0, flag: msg.flag !== false });
        this.checkShrink(String(msg.key));
        break;
      }
      case 'abort':
        events.abort(rank, Number(msg.code) || 1, String(msg.reason));
        break;
      case 'status':
        this.statusWaiters.get(rank)?.(msg.waiting ?? []);
        this.statusWaiters.delete(rank);
        break;
      default:
        events.warn(`unknown control message from rank ${rank}`);
    }
  }

  /** A shrink is decided once every member has called it or is absent; the callers get the result. */
  private checkShrink(key: string): void {
    const call = this.shrinks.get(key)!;
    if (!call.members.every((r) => call.arrived.has(r) || this.absent.has(r))) return;
    this.shrinks.delete(key);
    const alive = call.members.filter((r) => call.arrived.has(r) && !this.absent.has(r));
    let context = Math.max(...[...call.arrived.values()].map((a) => a.nextContext));
    if (context % 2 === 1) context++;
    const flag = alive.every((r) => call.arrived.get(r)!.flag);
    for (const r of alive) this.links.get(r)?.send({ t: 'shrunk', key, alive, context, flag });
  }

  private startMessage(rank: number): CoordinatorToRank {
    return { t: 'start', t0: this.t0! + this.clockOffsetMs(rank), peers: [...this.addresses] };
  }

  private broadcast(msg: CoordinatorToRank): void {
    for (const link of this.links.values()) link.send(msg);
  }
}
