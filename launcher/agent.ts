/**
 * `dsrun agent`: runs ranks on this host for launchers that hold the shared secret
 * (docs/multi-host.md, docs/security.md). One WebSocket per job; when it closes, the job's ranks on
 * this host are ended and its files removed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, mkdirSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { availableParallelism, hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { nanoid } from 'nanoid';
import { TRACE_CHUNK_BYTES, type AgentToLauncher, type LauncherToAgent, type RankTlsRequest } from '../runtime/protocol/agent-messages.ts';
import { decodeValue, encodeValue } from '../runtime/protocol/control-codec.ts';
import { clockAnchorText, epochMs } from '../runtime/protocol/epoch-clock.ts';
import { JOB_ID, Party, Refusal } from '../runtime/protocol/handshake.ts';
import { agentKey, keyToText, ranksKey, tlsKey } from '../runtime/protocol/keys.ts';
import { Env, isTlsUrl } from '../runtime/protocol/rendezvous.ts';
import { makeLocalLinksDir, removeLocalLinksDir } from './local-links.ts';
import { PingWatch } from './ping-watch.ts';
import { listenWebSocketServer, remoteAddress, type ServerTls, type WebSocket } from '../runtime/protocol/ws-server.ts';
import { packageRoot } from './package-root.ts';
import { tsxLoader } from './tsx-loader.ts';
import { bundleNodeArgs } from './bundle.ts';

export interface AgentOptions {
  host: string;
  port: number;
  /** Shared secret ('' only on a loopback address). */
  secret: string;
  /** Address (or interface name) ranks bind and advertise; default: the address the launcher reached. */
  advertise?: string;
  /** Largest frame from a launcher (the bundle travels in one). */
  maxFrameBytes?: number;
  /** At most this many open connections (authenticated or not). */
  maxConnections?: number;
  /** Serve wss:// with this certificate; a job that asks for TLS gives its ranks this certificate too (docs/security.md). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Serve plain ws:// on a non-loopback address (else TLS-PSK); launchers then need --insecure-plaintext. */
  insecurePlaintext?: boolean;
  log?: (line: string) => void;
}

export interface Agent {
  /** ws://host:port or wss://host:port. */
  readonly url: string;
  /** Stops listening, ends every job's ranks (SIGTERM, then SIGKILL) and resolves once they have exited. */
  close(): Promise<void>;
}

const KILL_GRACE_MS = 2000;
/**
 * A launcher that leaves this many pings (one a second) in a row unanswered is gone (cut off): its
 * ranks are ended. Counted in pings, so a stall of the agent itself (a loaded machine) is not taken for it.
 */
const LAUNCHER_SILENT_PINGS = 10;
/** Job ids this agent remembers having served, to refuse them ever after. */
const MAX_JOBS_REMEMBERED = 10_000;

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** An interface name (eth0) becomes its first IPv4 address (else IPv6); an address is kept. */
export function resolveInterface(nameOrAddress: string): string {
  const nets = networkInterfaces()[nameOrAddress];
  if (!nets) return nameOrAddress;
  const pick = nets.find((n) => n.family === 'IPv4') ?? nets.find((n) => !n.address.startsWith('fe80'));
  if (!pick) throw new Error(`interface ${nameOrAddress} has no usable address`);
  return pick.address;
}

function plainAddress(address: string | undefined): string {
  return (address ?? '127.0.0.1').replace(/^::ffff:/, '');
}

/** How an agent on `host` serves launchers: a certificate, TLS-PSK (the default off loopback), or plain ws. */
function agentTls(options: AgentOptions): ServerTls | undefined {
  if (options.tls) return options.tls;
  if (isLoopback(options.host) || options.insecurePlaintext) return undefined;
  return { psk: (job) => (JOB_ID.test(job) ? tlsKey(agentKey(options.secret, job), 'agent') : undefined) };
}

export async function startAgent(options: AgentOptions): Promise<Agent> {
  const log = options.log ?? ((line: string) => process.stderr.write(`dsrun agent: ${line}\n`));
  if (!options.secret && !isLoopback(options.host)) {
    throw new Error(`refusing to listen on ${options.host} without a shared secret (--secret-file or $DSMPI_SECRET)`);
  }
  // A job id dies with its job: a launcher's handshake for it is refused ever after (by this process).
  const jobsSeen = new Set<string>();
  const jobsEnded = new Set<Promise<void>>();
  const maxConnections = options.maxConnections ?? 64;
  const server = await listenWebSocketServer({
    host: options.host,
    port: options.port,
    maxConnections,
    maxPendingPerSource: Math.max(1, Math.floor(maxConnections / 4)),
    tls: agentTls(options),
    purpose: 'agent',
    maxPayload: options.maxFrameBytes ?? 256 * 1024 * 1024,
    perMessageDeflate: false,
    admit: (hello) => {
      if (hello.from !== Party.launcher || hello.to !== Party.agent)
        return { status: 401, reason: `a handshake from ${hello.from} to ${hello.to}` };
      return { key: agentKey(options.secret, hello.jobId) };
    },
    authenticated: (hello) => (jobsSeen.has(hello.jobId) ? { code: Refusal.duplicate, reason: 'this job id was used already' } : undefined),
    opened: (hello, socket, req) => {
      jobsSeen.add(hello.jobId);
      if (jobsSeen.size > MAX_JOBS_REMEMBERED) jobsSeen.delete(jobsSeen.values().next().value!);
      const ended = serveJob(hello.jobId, socket, req, options, log);
      jobsEnded.add(ended);
      void ended.then(() => jobsEnded.delete(ended));
    },
    refused: (reason, from) => log(`refused a connection from ${from}: ${reason}`),
  });
  return {
    url: server.url(options.host),
    close: async () => {
      await server.close();
      await Promise.all(jobsEnded);
    },
  };
}

/** One job: the program, its ranks on this host, and their output back to the launcher. */
function serveJob(
  jobId: string,
  socket: WebSocket,
  req: IncomingMessage,
  options: AgentOptions,
  log: (line: string) => void,
): Promise<void> {
  const from = remoteAddress(req.socket);
  const children = new Map<number, ChildProcess>();
  /** Every rank a `spawn` asked for: a second `spawn` of one is refused. */
  const requested = new Set<number>();
  /** The job's ranks key, for the ranks this agent starts: derived here, never sent by the launcher. */
  const rankKeyText = keyToText(ranksKey(options.secret, jobId));
  let endJob: () => void = () => {};
  const jobEnded = new Promise<void>((resolve) => (endJob = resolve));
  // At the depth of the launcher's bundle directory, so the source map's relative paths still hold.
  const dir = join(packageRoot, 'node_modules', '.cache', `dsmpi-agent-${process.pid}-${nanoid(8)}`);
  let program: Extract<LauncherToAgent, { t: 'program' }> | undefined;
  let nodeArgs: string[] = [];
  let bind = '';
  /** Where the job's ranks on this host listen on Unix sockets too (local-links.ts; none with TLS): linksFor. */
  let localLinks: string | undefined;
  /** DSMPI_TLS_* of the job's ranks when it uses TLS. */
  let tlsEnv: Record<string, string> = {};
  let closed = false;
  /** Spawns that arrived while the program was still being written. */
  const pending: Array<[number, Record<string, string>, boolean, boolean]> = [];
  /** Standard input for ranks not started yet (null: its end). */
  const earlyInput = new Map<number, Array<Uint8Array | null>>();
  log(`job ${jobId} from ${from}`);

  const send = (msg: AgentToLauncher): void => {
    if (socket.readyState === socket.OPEN) socket.send(encodeValue(msg));
  };
  /** Sends and waits until the frame is written out (so a large trace is not all buffered at once). */
  const sendWritten = (msg: AgentToLauncher): Promise<void> =>
    new Promise((resolve) => {
      if (socket.readyState === socket.OPEN) socket.send(encodeValue(msg), () => resolve());
      else resolve();
    });

  /** Sends a traced rank's trace file to the launcher in pieces; nothing if the rank never opened it. */
  const sendTrace = async (rank: number, file: string): Promise<void> => {
    try {
      for await (const data of createReadStream(file, { highWaterMark: TRACE_CHUNK_BYTES })) {
        if (closed) return;
        await sendWritten({ t: 'trace', rank, data: data as Buffer });
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log(`job ${jobId}: trace of rank ${rank}: ${(err as Error).message}`);
    }
  };

  /** Writes the TLS files of the job's ranks: this agent's certificate and key, and the launcher's CA. */
  const prepareTls = async (request: RankTlsRequest): Promise<void> => {
    if (!options.tls) throw new Error('the job uses TLS, but this agent has no certificate (start it with --tls-cert F --tls-key F)');
    await mkdir(dir, { recursive: true });
    const files = { cert: join(dir, 'tls-cert.pem'), key: join(dir, 'tls-key.pem'), ca: join(dir, 'tls-ca.pem') };
    await writeFile(files.cert, options.tls.cert);
    await writeFile(files.key, options.tls.key, { mode: 0o600 });
    if (request.ca) await writeFile(files.ca, request.ca);
    tlsEnv = { [Env.tlsCert]: files.cert, [Env.tlsKey]: files.key, [Env.tlsCa]: request.ca ? files.ca : '' };
  };

  const prepare = async (msg: Extract<LauncherToAgent, { t: 'program' }>): Promise<void> => {
    bind = resolveInterface(msg.iface ?? options.advertise ?? plainAddress(req.socket.localAddress));
    if (msg.tls) await prepareTls(msg.tls);
    if (msg.code) {
      await mkdir(dir, { recursive: true });
      const name = msg.name.replace(/[^A-Za-z0-9_.-]/g, '_');
      const file = join(dir, name);
      await writeFile(file, msg.code);
      if (msg.map) await writeFile(`${file}.map`, msg.map);
      nodeArgs = bundleNodeArgs(file);
    } else if (msg.path) {
      nodeArgs = ['--import', tsxLoader, msg.path];
    } else {
      throw new Error('no program');
    }
    program = msg;
    send({ t: 'ready', hostname: hostname(), bind, cores: availableParallelism() });
    for (const [rank, env, trace, stdin] of pending.splice(0)) startRank(rank, env, trace, stdin);
  };

  /** Hands a piece of the launcher's standard input (null: its end) to a rank that reads it. */
  const input = (rank: number, data: Uint8Array | null): void => {
    const stdin = children.get(rank)?.stdin;
    if (!stdin) {
      if (requested.has(rank) && !closed) earlyInput.set(rank, [...(earlyInput.get(rank) ?? []), data]);
      return;
    }
    if (data === null) stdin.end();
    else if (!stdin.writableEnded) stdin.write(data);
  };

  /**
   * The job's directory of local links for a rank, made on first use; none for a TLS job (its ranks
   * keep every link on TLS: a wss:// rendezvous), nor with -x DSMPI_LOCAL_LINKS= on the launcher.
   */
  const linksFor = (env: Record<string, string>): string => {
    if (env[Env.localLinks] === '' || isTlsUrl(env[Env.rendezvous] ?? '')) return '';
    return (localLinks ??= makeLocalLinksDir()) ?? '';
  };

  const startRank = (rank: number, env: Record<string, string>, trace: boolean, stdin: boolean): void => {
    if (closed) return;
    if (!program) {
      pending.push([rank, env, trace, stdin]);
      return;
    }
    // The trace file's place is this host's choice, not the launcher's.
    const traceFile = trace ? join(dir, `trace-rank-${rank}.jsonl`) : undefined;
    if (traceFile) mkdirSync(dir, { recursive: true });
    const child = spawn(process.execPath, [...nodeArgs, ...program.args], {
      env: {
        ...process.env,
        ...env,
        [Env.token]: rankKeyText,
        [Env.trace]: traceFile ?? '',
        [Env.bind]: bind,
        [Env.localLinks]: linksFor(env),
        [Env.clockAnchor]: clockAnchorText(),
        ...tlsEnv,
      },
      stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    children.set(rank, child);
    // A rank that exits without reading all its input: the rest is dropped, not an error.
    child.stdin?.on('error', () => {});
    for (const data of earlyInput.get(rank) ?? []) input(rank, data);
    earlyInput.delete(rank);
    child.stdout!.on('data', (data: Buffer) => send({ t: 'out', rank, fd: 1, data }));
    child.stderr!.on('data', (data: Buffer) => send({ t: 'out', rank, fd: 2, data }));
    child.on('spawn', () => send({ t: 'spawned', rank, pid: child.pid! }));
    child.on('error', (err) => {
      children.delete(rank);
      send({ t: 'exit', rank, code: null, signal: null, error: err.message });
    });
    // 'close': after the output, so the launcher has every line (and the trace) before the exit.
    child.on('close', (code, signal) => {
      children.delete(rank);
      const traced = traceFile ? sendTrace(rank, traceFile) : Promise.resolve();
      void traced.then(() => send({ t: 'exit', rank, code, signal }));
    });
  };

  socket.on('message', (data: Buffer, isBinary: boolean) => {
    let msg: LauncherToAgent;
    try {
      if (!isBinary) throw new Error('text frame');
      msg = decodeValue(data) as LauncherToAgent;
    } catch (err) {
      log(`job ${jobId}: malformed frame ignored (${(err as Error).message})`);
      return;
    }
    switch (msg?.t) {
      case 'program':
        prepare(msg).catch((err: Error) => send({ t: 'error', message: `cannot prepare the program: ${err.message}` }));
        break;
      case 'spawn':
        if (!Number.isInteger(msg.rank) || msg.rank < 0 || !msg.env || typeof msg.env !== 'object') {
          log(`job ${jobId}: malformed spawn ignored`);
        } else if (requested.has(msg.rank)) {
          log(`job ${jobId}: a second spawn of rank ${msg.rank} refused`);
          send({ t: 'error', message: `rank ${msg.rank} was started already: a second spawn of it is refused` });
        } else {
          requested.add(msg.rank);
          startRank(msg.rank, msg.env, msg.trace === true, msg.stdin === true);
        }
        break;
      case 'stdin':
        if (!Number.isInteger(msg.rank) || (msg.data !== undefined && !(msg.data instanceof Uint8Array))) {
          log(`job ${jobId}: malformed stdin ignored`);
        } else {
          if (msg.data !== undefined) input(msg.rank, msg.data);
          if (msg.end === true) input(msg.rank, null);
        }
        break;
      case 'clock':
        send({ t: 'clock', id: msg.id, ms: epochMs() });
        break;
      case 'signal':
        try {
          children.get(msg.rank)?.kill(msg.signal);
        } catch (err) {
          log(`job ${jobId}: signal ${String(msg.signal)} to rank ${msg.rank}: ${(err as Error).message}`);
        }
        break;
      default:
        log(`job ${jobId}: unknown message ignored`);
    }
  });
  // A launcher cut off by the network never closes the socket: ping it, and end the job when it is silent.
  const launcherWatch = new PingWatch(socket, LAUNCHER_SILENT_PINGS);
  const pinger = setInterval(() => {
    const silentMs = launcherWatch.tick();
    if (silentMs === undefined) return;
    log(`job ${jobId}: no answer from the launcher for ${(silentMs / 1000).toFixed(1)} s; ending its ranks`);
    socket.terminate();
  }, 1000);
  socket.on('error', (err) => log(`job ${jobId}: ${err.message}`));
  socket.on('close', () => {
    closed = true;
    clearInterval(pinger);
    // The launcher is gone or done: no rank of the job outlives it.
    const left = [...children.values()];
    for (const child of left) child.kill('SIGTERM');
    const killer = setTimeout(() => {
      for (const child of left) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }, KILL_GRACE_MS);
    const exited = left.map(
      (child) =>
        new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(0) : child.once('exit', resolve))),
    );
    void Promise.all(exited).then(async () => {
      clearTimeout(killer);
      await rm(dir, { recursive: true, force: true });
      removeLocalLinksDir(localLinks);
      log(`job ${jobId} ended`);
      endJob();
    });
  });
  return jobEnded;
}
