import type { Engine } from '../engine.ts';
import { DsError, ErrorCode } from '../errors.ts';
import { Request } from '../request.ts';
import { Kind, type Envelope } from '../wire.ts';

/**
 * The wire side of one-sided operations, one per rank (the engine has one handler per kind; the
 * rank context makes it on first use).
 * A request is `[RmaRequest, context, objectId, [reqId, code, ...args]]`, served by the host's
 * runtime; the reply is `[RmaReply, context, objectId, [reqId, 0, value]]` or
 * `[..., [reqId, 1, errorCode, message]]`. Objects are named by (communicator context, object id),
 * where the id counts the communicator's one-sided creations (collective, so the same everywhere).
 */

/** Request codes. */
export const RmaCode = {
  Get: 0,
  Put: 1,
  Accumulate: 2,
  FetchAndOp: 3,
  CompareAndSwap: 4,
  Lock: 5,
  Unlock: 6,
} as const;

/** The host side of one object: applies requests, one at a time, in its own order. */
export interface HostedObject {
  arrive(origin: number, reqId: number, code: number, args: unknown[]): void;
  /** An origin died: drop its queued requests and release its locks. */
  originLost(origin: number): void;
}

export type Respond = (origin: number, reqId: number, result: { value: unknown } | { error: DsError }) => void;

interface Pending {
  request: Request<unknown>;
  host: number;
  settled?: () => void;
}

export class RmaEndpoint {
  readonly engine: Engine;
  private readonly hosted = new Map<string, HostedObject>();
  private readonly pending = new Map<number, Pending>();
  private nextReqId = 1;

  constructor(engine: Engine) {
    this.engine = engine;
    engine.handle(Kind.RmaRequest, (from, env) => this.onRequest(from, env));
    engine.handle(Kind.RmaReply, (from, env) => this.onReply(from, env));
    engine.onPeerLost((rank, reason) => this.onPeerLost(rank, reason));
  }

  /** Registers an object this rank hosts; `make` gets the function that answers requests. */
  host(context: number, id: number, make: (respond: Respond) => HostedObject): void {
    const respond: Respond = (origin, reqId, result) => {
      const body = 'error' in result ? [reqId, 1, result.error.code, result.error.message] : [reqId, 0, result.value];
      try {
        const sent = this.engine.send(origin, Kind.RmaReply, context, id, body, 'one-sided reply');
        if (sent) sent.catch(() => {}); // the origin died: nobody is waiting
      } catch (err) {
        this.engine.report(err as Error);
      }
    };
    this.hosted.set(`${context}/${id}`, make(respond));
  }

  unhost(context: number, id: number): void {
    this.hosted.delete(`${context}/${id}`);
  }

  /**
   * Sends one request to the object's host (a world rank). Argument errors throw at once (payload
   * not plain data); a dead host rejects with DS_ERR_PEER_LOST. `settled` runs when it completes.
   */
  request<T>(host: number, context: number, id: number, code: number, args: unknown[], what: string, settled?: () => void): Request<T> {
    const request = new Request<unknown>(what, this.engine.clock.now());
    if (this.engine.dead.has(host)) {
      request.reject(new DsError(ErrorCode.PeerLost, `${what}: the host, world rank ${host}, is dead`));
      return request as Request<T>;
    }
    const reqId = this.nextReqId++;
    this.pending.set(reqId, { request, host, settled });
    this.engine.inflight.add(request);
    let sent: void | Promise<void>;
    try {
      // To itself the engine dispatches at once: the host's own operations take the same path.
      sent = this.engine.send(host, Kind.RmaRequest, context, id, [reqId, code, ...args], what);
    } catch (err) {
      this.pending.delete(reqId);
      this.engine.inflight.delete(request);
      throw err;
    }
    if (sent) sent.catch((err: unknown) => this.settle(reqId, undefined, err));
    return request as Request<T>;
  }

  private settle(reqId: number, value: unknown, error?: unknown): void {
    const p = this.pending.get(reqId);
    if (!p) return;
    this.pending.delete(reqId);
    this.engine.inflight.delete(p.request);
    if (error !== undefined) p.request.reject(error);
    else p.request.resolve(value);
    p.settled?.();
  }

  private onRequest(from: number, env: Envelope): void {
    const [, context, id, body] = env;
    if (!Array.isArray(body) || !Number.isInteger(body[0]) || !Number.isInteger(body[1])) {
      this.engine.report(new DsError(ErrorCode.Protocol, `from rank ${from}: malformed one-sided request`));
      return;
    }
    const [reqId, code, ...args] = body as [number, number, ...unknown[]];
    const obj = this.hosted.get(`${context}/${id}`);
    if (obj) {
      obj.arrive(from, reqId, code, args);
      return;
    }
    const error = new DsError(ErrorCode.Closed, `rank ${this.engine.rank} hosts no one-sided object ${context}/${id} (freed?)`);
    const sent = this.engine.send(from, Kind.RmaReply, context, id, [reqId, 1, error.code, error.message], 'one-sided reply');
    if (sent) sent.catch(() => {});
  }

  private onReply(from: number, env: Envelope): void {
    const body = env[3];
    if (!Array.isArray(body)) return;
    const [reqId, status, a, b] = body as [number, number, unknown, unknown];
    const p = this.pending.get(reqId);
    if (!p || p.host !== from) return;
    if (status === 0) this.settle(reqId, a);
    else this.settle(reqId, undefined, new DsError(a as ErrorCode, `${p.request.description}: ${String(b)}`));
  }

  private onPeerLost(rank: number, reason: string): void {
    for (const [reqId, p] of [...this.pending]) {
      if (p.host !== rank) continue;
      this.settle(
        reqId,
        undefined,
        new DsError(ErrorCode.PeerLost, `${p.request.description}: the host, world rank ${rank}, was lost (${reason})`),
      );
    }
    for (const obj of this.hosted.values()) obj.originLost(rank);
  }
}
