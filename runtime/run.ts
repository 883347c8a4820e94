import { realClock } from './clock.ts';
import type { Communicator } from './communicator.ts';
import { Engine } from './engine.ts';
import { DsError, ErrorCode, isDsError } from './errors.ts';
import { runLocal } from './local.ts';
import { dsrunSpawnService } from './dsrun-spawn.ts';
import type { MembershipOutcome, MembershipService, SpawnInfo, SpawnService } from './rank-context.ts';
import { startRank } from './start-rank.ts';
import { ControlChannel } from './transport/control-channel.ts';
import { FaultyTransport } from './transport/faulty.ts';
import { msgpackCodec } from './transport/codec.ts';
import { launchEnv } from './transport/launch-env.ts';
import { keyFromText } from './protocol/keys.ts';
import { rankTlsFromEnv } from './transport/rank-tls.ts';
import { Env, parseRadix, threadArrivalsKey, threadLinksKey, type CoordinatorToRank, type NetworkFaults } from './protocol/rendezvous.ts';
import { TraceFile } from './transport/trace-file.ts';
import type { Transport } from './transport.ts';
import { WsTransport } from './transport/ws.ts';
import { PortTransport } from './transport/port.ts';
import { BusyPoll } from './transport/busy-poll.ts';
import { isMainThread, workerData, type MessagePort } from 'node:worker_threads';

export interface RunOptions {
  /**
   * Keep going when another rank dies: operations on it reject with DS_ERR_PEER_LOST instead of the
   * launcher aborting the job. Default false (any death aborts the job, as mpirun does).
   */
  surviveFailures?: boolean;
  /**
   * Bytes of one sender's unmatched point-to-point messages this rank keeps before the sender is held
   * back (default: dsrun --recv-buffer, else 64 MiB). Give every rank the same value.
   */
  recvBufferBytes?: number;
}

/** Set by the first run(): a process is one rank of one job. */
let ran = false;

/**
 * Runs `main` as this process's rank of the job dsrun started. Started without dsrun (a plain
 * `node program.mjs` or `npx tsx program.ts`), it runs a job of one rank. An uncaught error on any
 * rank aborts the whole job with that rank's message and stack. Under dsrun, `main` starts at the
 * job's time 0, once every rank has registered with dsrun (docs/faults.md). run() resolves when every rank's
 * `main` has returned and the job's links are closed, the same under dsrun and without it: code
 * after it runs, and the process ends when that code is done. A process calls run() once; a second
 * call throws DS_ERR_INVALID_ARGUMENT.
 */
export async function run(main: (world: Communicator) => Promise<unknown> | unknown, options: RunOptions = {}): Promise<void> {
  if (ran) {
    throw new DsError(
      ErrorCode.InvalidArgument,
      'run(): called a second time in this process; a process is one rank of one job, so do all the work in one main',
    );
  }
  ran = true;
  // Under mpirun or srun: rank and size from their variables (runtime/transport/launch-env.ts).
  const env = await launchEnv(process.env);
  if (!env[Env.rendezvous]) {
    try {
      await runLocal({ n: 1, seed: Number(env[Env.seed] ?? 1) }, main);
    } catch (err) {
      console.error(err);
      process.exit(1);
    }
    return;
  }
  const rank = Number(env[Env.rank]);
  const size = Number(env[Env.size]);
  const jobId = env[Env.jobId] ?? '';
  const key = keyFromText(env[Env.token]);
  const seed = Number(env[Env.seed] ?? 1);
  if (!(Number.isInteger(rank) && Number.isInteger(size) && rank >= 0 && rank < size)) {
    throw new DsError(ErrorCode.NoLauncher, `run(): bad ${Env.rank}/${Env.size} in the environment`);
  }
  if (!key) throw new DsError(ErrorCode.NoLauncher, `run(): ${Env.token} is missing or not a key of this dsmpi version`);

  let collectiveRadix: number | undefined;
  try {
    collectiveRadix = parseRadix(env[Env.collectiveRadix]);
  } catch (err) {
    throw new DsError(ErrorCode.InvalidArgument, `run(): ${(err as Error).message}`);
  }
  // A wss:// rendezvous: TLS on every link of this rank (docs/security.md).
  const tls = rankTlsFromEnv(env);
  const addresses = new Map<number, string>();
  const addressWaiters = new Map<number, Array<(address: string) => void>>();
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  let begin: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    begin = resolve;
  });

  const maxPayload = env[Env.maxPayload] ? Number(env[Env.maxPayload]) : undefined;
  // dsrun --threads: this rank is a worker thread, with a MessagePort to each other rank.
  const fromLauncher = isMainThread ? undefined : (workerData as Record<string, unknown> | undefined);
  const threadLinks = fromLauncher?.[threadLinksKey] as MessagePort[] | undefined;
  const links = threadLinks
    ? new PortTransport(threadLinks, maxPayload)
    : await WsTransport.listen({
        rank,
        size,
        jobId,
        key,
        host: env[Env.bind] || '127.0.0.1',
        maxPayload,
        tls,
        resolve: (peer) => {
          const known = addresses.get(peer);
          if (known) return Promise.resolve(known);
          return new Promise((resolve) => addressWaiters.set(peer, [...(addressWaiters.get(peer) ?? []), resolve]));
        },
      });

  // dsrun --trace / --drop / --delay / --partition: a wrapper applies the faults and traces messages.
  const faultsJson = env[Env.faults];
  const tracePath = env[Env.trace];
  const faults = faultsJson ? (JSON.parse(faultsJson) as NetworkFaults) : undefined;
  const traceFile = tracePath ? new TraceFile(tracePath) : undefined;
  const faulty = faults || traceFile ? new FaultyTransport(links, { rank, seed, faults: faults ?? {}, trace: traceFile }) : undefined;
  const transport: Transport = faulty ?? links;

  let control: ControlChannel | undefined;
  const abortJob = async (code: number, reason: string): Promise<never> => {
    faulty?.record({ ev: 'exit', reason: reason.split('\n')[0] });
    traceFile?.close();
    await control?.send({ t: 'abort', code, reason });
    process.exit(code);
  };
  const engine: Engine = new Engine({
    codec: msgpackCodec,
    rank,
    size,
    transport,
    clock: realClock,
    seed,
    collectiveRadix,
    recvBufferBytes: options.recvBufferBytes ?? (env[Env.recvBuffer] ? Number(env[Env.recvBuffer]) : undefined),
    // Threads count themselves into barriers in shared memory, unless the messages are faulted or
    // traced: then barriers stay messages, to be dropped, delayed and drawn like any other.
    worldArrivals: threadLinks && !faulty ? new Int32Array(fromLauncher![threadArrivalsKey] as SharedArrayBuffer) : undefined,
    abort: (code, reason) => void abortJob(code, reason),
    trace: traceFile && faulty ? (event) => faulty.record(event) : undefined,
  });
  if (faulty) engine.onPeerLost((peer) => faulty.record({ ev: 'detect', from: peer }));
  // dsrun --poll: a process rank keeps its event loop turning while it waits for a message.
  if (env[Env.poll] === '1' && !threadLinks) {
    const poll = new BusyPoll(() => engine.waitingForMessage());
    engine.onWait(() => poll.kick());
  }
  const shrinkWaiters = new Map<string, (outcome: MembershipOutcome) => void>();
  // Dynamic processes (runtime/spawn.ts): comm.spawn() asks the coordinator; comm.retire() leaves.
  const dynamic = dsrunSpawnService(
    engine,
    (msg) => control?.send(msg) ?? Promise.resolve(),
    async () => {
      faulty?.record({ ev: 'exit', reason: 'retired' });
      traceFile?.close();
      control?.close();
      process.exit(0);
    },
  );
  const spawn: SpawnService = threadLinks
    ? {
        spawn: () =>
          Promise.reject(new DsError(ErrorCode.InvalidArgument, 'spawn(): not available when ranks are threads (dsrun --threads)')),
        retire: dynamic.service.retire,
      }
    : dynamic.service;
  const membership: MembershipService = {
    shrink: (key, members, nextContext, flag) =>
      new Promise((resolve) => {
        shrinkWaiters.set(key, resolve);
        void control?.send({ t: 'shrink', key, members: [...members], nextContext, flag });
      }),
  };
  // The world exists before any peer can reach this rank (thread links are live from the start).
  const spawned = env[Env.spawn] ? (JSON.parse(env[Env.spawn]!) as SpawnInfo) : undefined;
  const world = startRank(engine, { spawn, membership }, spawned);
  const onMessage = (msg: CoordinatorToRank): void => {
    switch (msg.t) {
      case 'peer':
        addresses.set(msg.rank, msg.address);
        for (const w of addressWaiters.get(msg.rank) ?? []) w(msg.address);
        addressWaiters.delete(msg.rank);
        break;
      case 'lost':
        engine.peerLost(msg.rank, msg.reason);
        links.forget(msg.rank, msg.reason);
        break;
      case 'status?': {
        const now = realClock.now();
        const waiting = engine.waiting().map((op) => ({ what: op.description, forMs: now - op.startedAt }));
        void control?.send({ t: 'status', waiting });
        break;
      }
      case 'finish':
        finish();
        break;
      case 'start':
        faulty?.setStart(msg.t0);
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
  control = await ControlChannel.connect({
    url: env[Env.rendezvous]!,
    jobId,
    key,
    rank,
    tls,
    onMessage,
    onLost: () => process.exit(1),
    onError: (err) => engine.report(err),
  });

  const onUncaught = (err: unknown): void => {
    void abortJob(1, errorText(err));
  };
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  await control.send({
    t: 'hello',
    rank,
    pid: process.pid,
    address: links instanceof WsTransport ? links.address : '',
    survive: !!options.surviveFailures,
  });

  // Every rank's main starts at the job's time 0, once all have registered: no start-up collective is
  // needed to line the ranks up (one that loss or a --kill at 0 would break), and a rank killed at 0
  // has done nothing yet.
  await started;
  try {
    await main(world);
  } catch (err) {
    await abortJob(1, errorText(err));
  }
  faulty?.record({ ev: 'exit' });
  await transport.flush();
  await control.send({ t: 'done' });
  await finished;
  await engine.shutdown();
  traceFile?.close();
  control.close();
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUncaught);
}

/** What dsrun prints of a rank's uncaught error: its first line names a DsError's code. */
function errorText(err: unknown): string {
  if (isDsError(err)) return [`${err.code}: ${err.message}`, ...(err.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l))].join('\n');
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return `uncaught value: ${String(err)}`;
}
