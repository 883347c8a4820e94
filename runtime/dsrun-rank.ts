import { realClock } from './clock.ts';
import { Engine } from './engine.ts';
import { DsError, ErrorCode, isDsError } from './errors.ts';
import { dsrunSpawnService } from './dsrun-spawn.ts';
import type { ControlLink, CoordinatorToRank } from './protocol/rendezvous.ts';
import type { MembershipOutcome, RankServices } from './rank-context.ts';
import { msgpackCodec } from './transport/codec.ts';
import { openControl } from './transport/control-link.ts';
import type { JobEnv } from './transport/launch-env.ts';
import type { RankTransport } from './transport/rank-transport.ts';

/**
 * One rank of a dsrun job, around its engine: the control channel to dsrun's coordinator (peer
 * addresses and losses, the job's start and finish, status, spawn and shrink), and aborting the job.
 */
export class DsrunRank {
  readonly engine: Engine;
  /** What the rank's context gets from dsrun: spawn and retire, shrink and agree. */
  readonly services: RankServices;
  private readonly env: JobEnv;
  private readonly net: RankTransport;
  private control: ControlLink | undefined;
  private readonly onCoordinator: (msg: CoordinatorToRank) => void;
  private readonly onUncaught = (err: unknown): void => void this.abort(1, errorText(err));
  private readonly started: Promise<void>;
  private readonly finished: Promise<void>;

  constructor(env: JobEnv, net: RankTransport, recvBufferBytes: number | undefined) {
    this.env = env;
    this.net = net;
    const engine = new Engine({
      codec: msgpackCodec,
      rank: env.rank,
      size: env.size,
      transport: net.transport,
      clock: realClock,
      seed: env.seed,
      collectiveRadix: env.collectiveRadix,
      recvBufferBytes: recvBufferBytes ?? env.recvBufferBytes,
      worldArrivals: net.worldArrivals,
      abort: (code, reason) => void this.abort(code, reason),
      trace: net.trace,
    });
    this.engine = engine;
    net.attach(engine);
    // Dynamic processes (runtime/spawn.ts): comm.spawn() asks the coordinator; comm.retire() leaves.
    const dynamic = dsrunSpawnService(
      engine,
      (msg) => this.control?.send(msg) ?? Promise.resolve(),
      async () => {
        net.record({ ev: 'exit', reason: 'retired' });
        net.closeTrace();
        this.control?.close();
        process.exit(0);
      },
    );
    const shrinkWaiters = new Map<string, (outcome: MembershipOutcome) => void>();
    this.services = {
      spawn: net.threads
        ? {
            spawn: () =>
              Promise.reject(new DsError(ErrorCode.InvalidArgument, 'spawn(): not available when ranks are threads (dsrun --threads)')),
            retire: dynamic.service.retire,
          }
        : dynamic.service,
      membership: {
        shrink: (key, members, nextContext, flag) =>
          new Promise((resolve) => {
            shrinkWaiters.set(key, resolve);
            void this.control?.send({ t: 'shrink', key, members: [...members], nextContext, flag });
          }),
      },
    };
    let begin: () => void = () => {};
    this.started = new Promise<void>((resolve) => {
      begin = resolve;
    });
    let finish: () => void = () => {};
    this.finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    this.onCoordinator = (msg) => {
      switch (msg.t) {
        case 'peer':
          net.learnAddress(msg.rank, msg.address);
          break;
        case 'lost':
          engine.peerLost(msg.rank, msg.reason);
          net.forget(msg.rank, msg.reason);
          break;
        case 'status?': {
          const now = realClock.now();
          const waiting = engine.waiting().map((op) => ({ what: op.description, forMs: now - op.startedAt }));
          void this.control?.send({ t: 'status', waiting });
          break;
        }
        case 'finish':
          finish();
          break;
        case 'start':
          for (const [peer, address] of msg.peers) net.learnAddress(peer, address);
          net.setStart(msg.t0);
          begin();
          break;
        case 'spawned':
        case 'retired':
          dynamic.onMessage(msg);
          break;
        case 'shrunk':
          shrinkWaiters.get(msg.key)?.({ alive: msg.alive, context: msg.context, flag: msg.flag });
          shrinkWaiters.delete(msg.key);
          break;
      }
    };
  }

  /**
   * Registers with the coordinator and resolves at the job's time 0, once every rank has registered:
   * no start-up collective is needed to line the ranks up (one that loss or a --kill at 0 would
   * break), and a rank killed at 0 has done nothing yet. From here an uncaught error aborts the job.
   */
  async join(surviveFailures: boolean): Promise<void> {
    const { env, engine } = this;
    this.control = await openControl({
      url: env.rendezvous,
      jobId: env.jobId,
      key: env.key,
      rank: env.rank,
      tls: env.tls,
      onMessage: this.onCoordinator,
      onLost: () => process.exit(1),
      onError: (err) => engine.report(err),
    });
    process.on('uncaughtException', this.onUncaught);
    process.on('unhandledRejection', this.onUncaught);
    await this.control.send({ t: 'hello', rank: env.rank, pid: process.pid, address: this.net.address, survive: surviveFailures });
    await this.started;
  }

  /** `main` threw: the job ends with its error. */
  fail(err: unknown): Promise<never> {
    return this.abort(1, errorText(err));
  }

  /** Ends the whole job: tells the coordinator and exits with `code`. */
  async abort(code: number, reason: string): Promise<never> {
    this.net.record({ ev: 'exit', reason: reason.split('\n')[0] });
    this.net.closeTrace();
    await this.control?.send({ t: 'abort', code, reason });
    process.exit(code);
  }

  /** `main` has returned: waits until every rank's has and the coordinator ends the job, then closes. */
  async leave(): Promise<void> {
    this.net.record({ ev: 'exit' });
    await this.net.transport.flush();
    await this.control!.send({ t: 'done' });
    await this.finished;
    await this.engine.shutdown();
    this.net.closeTrace();
    this.control!.close();
    process.off('uncaughtException', this.onUncaught);
    process.off('unhandledRejection', this.onUncaught);
  }
}

/** What dsrun prints of a rank's uncaught error: its first line names a DsError's code. */
function errorText(err: unknown): string {
  if (isDsError(err)) return [`${err.code}: ${err.message}`, ...(err.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l))].join('\n');
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return `uncaught value: ${String(err)}`;
}
