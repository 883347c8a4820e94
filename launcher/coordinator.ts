import type { IncomingMessage } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { decodeValue, encodeValue } from '../runtime/transport/codec.ts';
import type { CoordinatorToRank, RankToCoordinator } from '../runtime/transport/rendezvous.ts';
import { Header, sameSecret } from '../runtime/transport/ws.ts';

export interface CoordinatorEvents {
  hello(rank: number, survive: boolean): void;
  done(rank: number): void;
  abort(rank: number, code: number, reason: string): void;
  /** A connection refused or a bad frame: reported, never fatal to the job. */
  warn(message: string): void;
}

/**
 * The rendezvous of a job: each rank connects once, says where it listens, and the coordinator
 * passes every address to every rank. It also relays deaths, collects `done`, and asks for status.
 */
export class Coordinator {
  readonly url: string;
  private readonly server: WebSocketServer;
  private readonly sockets = new Map<number, WebSocket>();
  private readonly addresses = new Map<number, string>();
  private readonly statusWaiters = new Map<number, (waiting: Array<{ what: string; forMs: number }>) => void>();

  private constructor(server: WebSocketServer, url: string) {
    this.server = server;
    this.url = url;
  }

  static async start(options: { jobId: string; token: string; size: number; host?: string }, events: CoordinatorEvents): Promise<Coordinator> {
    const host = options.host ?? '127.0.0.1';
    const server = new WebSocketServer({
      host,
      port: 0,
      perMessageDeflate: false,
      maxPayload: 1024 * 1024,
      verifyClient: ({ req }: { req: IncomingMessage }, done: (ok: boolean, code?: number, msg?: string) => void) => {
        const rank = Number(req.headers[Header.rank]);
        const token = req.headers[Header.token];
        if (req.headers[Header.job] !== options.jobId || !sameSecret(typeof token === 'string' ? token : undefined, options.token)) {
          events.warn(`refused a connection from ${req.socket.remoteAddress}: wrong or missing job token`);
          return done(false, 401, 'wrong job or token');
        }
        if (!Number.isInteger(rank) || rank < 0 || rank >= options.size || coordinator.sockets.has(rank)) {
          events.warn(`refused a connection claiming rank ${req.headers[Header.rank]}`);
          return done(false, 409, 'bad or duplicate rank');
        }
        done(true);
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    const { port } = server.address() as { port: number };
    const coordinator = new Coordinator(server, `ws://${host}:${port}`);
    server.on('connection', (socket, req) => {
      const rank = Number(req.headers[Header.rank]);
      coordinator.sockets.set(rank, socket);
      socket.on('message', (data: Buffer) => {
        let msg: RankToCoordinator;
        try {
          msg = decodeValue(data) as RankToCoordinator;
        } catch {
          events.warn(`malformed control frame from rank ${rank}`);
          return;
        }
        coordinator.onMessage(rank, msg, events);
      });
      socket.on('error', (err) => events.warn(`control connection of rank ${rank}: ${err.message}`));
    });
    return coordinator;
  }

  /** Tells every connected rank that `rank` died. */
  announceLost(rank: number, reason: string): void {
    this.sockets.delete(rank);
    this.broadcast({ t: 'lost', rank, reason });
  }

  finish(): void {
    this.broadcast({ t: 'finish' });
  }

  /** Asks one rank what it waits on; undefined if it does not answer within `timeoutMs`. */
  status(rank: number, timeoutMs: number): Promise<Array<{ what: string; forMs: number }> | undefined> {
    const socket = this.sockets.get(rank);
    if (!socket) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.statusWaiters.delete(rank);
        resolve(undefined);
      }, timeoutMs);
      this.statusWaiters.set(rank, (waiting) => {
        clearTimeout(timer);
        resolve(waiting);
      });
      this.sendTo(socket, { t: 'status?' });
    });
  }

  close(): Promise<void> {
    for (const s of this.sockets.values()) s.terminate();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private onMessage(rank: number, msg: RankToCoordinator, events: CoordinatorEvents): void {
    switch (msg?.t) {
      case 'hello': {
        const socket = this.sockets.get(rank)!;
        for (const [r, address] of this.addresses) this.sendTo(socket, { t: 'peer', rank: r, address });
        this.addresses.set(rank, msg.address);
        this.broadcast({ t: 'peer', rank, address: msg.address });
        events.hello(rank, !!msg.survive);
        break;
      }
      case 'done':
        events.done(rank);
        break;
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

  private broadcast(msg: CoordinatorToRank): void {
    for (const s of this.sockets.values()) this.sendTo(s, msg);
  }

  private sendTo(socket: WebSocket, msg: CoordinatorToRank): void {
    if (socket.readyState === socket.OPEN) socket.send(encodeValue(msg));
  }
}
