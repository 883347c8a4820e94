/**
 * `dsrun agent`: runs ranks on this host for launchers that hold the shared secret
 * (docs/multi-host.md, docs/security.md). One WebSocket per job; when it closes, the job's ranks on
 * this host are ended and its files removed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, mkdirSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { nanoid } from 'nanoid';
import { WebSocketServer, type WebSocket } from 'ws';
import { AuthHeader, checkHandshake, hardenServer, jobToken, replyProof } from '../runtime/transport/auth.ts';
import { decodeValue, encodeValue } from '../runtime/protocol/control-codec.ts';
import { epochMs } from '../runtime/protocol/epoch-clock.ts';
import { Env } from '../runtime/protocol/rendezvous.ts';
import { TRACE_CHUNK_BYTES, type AgentToLauncher, type LauncherToAgent, type RankTlsRequest } from '../runtime/protocol/agent-messages.ts';
import { packageRoot } from './bundle.ts';

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
  /** Serve wss://; a job that asks for TLS gives its ranks this certificate too (docs/security.md). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  log?: (line: string) => void;
}

export interface Agent {
  /** ws://host:port or wss://host:port. */
  readonly url: string;
  close(): Promise<void>;
}

const KILL_GRACE_MS = 2000;
/** A launcher that has not answered pings for this long is gone (cut off): its ranks are ended. */
const LAUNCHER_SILENT_MS = 10_000;

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

export async function startAgent(options: AgentOptions): Promise<Agent> {
  const log = options.log ?? ((line: string) => process.stderr.write(`dsrun agent: ${line}\n`));
  if (!options.secret && !isLoopback(options.host)) {
    throw new Error(`refusing to listen on ${options.host} without a shared secret (--secret-file or $DSMPI_SECRET)`);
  }
  const server: Server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }) : createHttpServer();
  hardenServer(server, options.maxConnections ?? 64);
  const wss = new WebSocketServer({
    server,
    maxPayload: options.maxFrameBytes ?? 256 * 1024 * 1024,
    perMessageDeflate: false,
    verifyClient: ({ req }: { req: IncomingMessage }, done: (ok: boolean, code?: number, msg?: string) => void) => {
      const job = req.headers[AuthHeader.job];
      const refused =
        typeof job === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(job)
          ? checkHandshake('agent', req.headers, job, jobToken(options.secret, job))
          : 'wrong or missing job token (no job id)';
      if (refused) {
        log(`refused a connection from ${plainAddress(req.socket.remoteAddress)}: ${refused}`);
        return done(false, 401, 'unauthorized');
      }
      done(true);
    },
  });
  wss.on('headers', (headers, req) => {
    const job = String(req.headers[AuthHeader.job]);
    headers.push(`${AuthHeader.reply}: ${replyProof('agent', jobToken(options.secret, job), req.headers)}`);
  });
  wss.on('connection', (socket, req) => serveJob(socket, req, options, log));
  wss.on('error', (err) => log(`server: ${err.message}`));
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as { address: string; port: number };
  const url = `${options.tls ? 'wss' : 'ws'}://${address.includes(':') ? `[${address}]` : address}:${port}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.close(() => resolve());
      }),
  };
}

/** One job: the program, its ranks on this host, and their output back to the launcher. */
function serveJob(socket: WebSocket, req: IncomingMessage, options: AgentOptions, log: (line: string) => void): void {
  const jobId = String(req.headers[AuthHeader.job]);
  const from = plainAddress(req.socket.remoteAddress);
  const children = new Map<number, ChildProcess>();
  // At the depth of the launcher's bundle directory, so the source map's relative paths still hold.
  const dir = join(packageRoot, 'node_modules', '.cache', `dsmpi-agent-${process.pid}-${nanoid(8)}`);
  let program: Extract<LauncherToAgent, { t: 'program' }> | undefined;
  let nodeArgs: string[] = [];
  let bind = '';
  /** DSMPI_TLS_* of the job's ranks when it uses TLS. */
  let tlsEnv: Record<string, string> = {};
  let closed = false;
  /** Spawns that arrived while the program was still being written. */
  const pending: Array<[number, Record<string, string>, boolean]> = [];
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
      nodeArgs = ['--enable-source-maps', file];
    } else if (msg.path) {
      nodeArgs = ['--import', pathToFileURL(join(packageRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, msg.path];
    } else {
      throw new Error('no program');
    }
    program = msg;
    send({ t: 'ready', hostname: hostname(), bind });
    for (const [rank, env, trace] of pending.splice(0)) startRank(rank, env, trace);
  };

  const startRank = (rank: number, env: Record<string, string>, trace: boolean): void => {
    if (closed) return;
    if (!program) {
      pending.push([rank, env, trace]);
      return;
    }
    // The trace file's place is this host's choice, not the launcher's.
    const traceFile = trace ? join(dir, `trace-rank-${rank}.jsonl`) : undefined;
    if (traceFile) mkdirSync(dir, { recursive: true });
    const child = spawn(process.execPath, [...nodeArgs, ...program.args], {
      env: { ...process.env, ...env, [Env.trace]: traceFile ?? '', DSMPI_BIND: bind, ...tlsEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.set(rank, child);
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
    lastHeard = Date.now();
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
        if (Number.isInteger(msg.rank) && msg.env && typeof msg.env === 'object') startRank(msg.rank, msg.env, msg.trace === true);
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
  let lastHeard = Date.now();
  socket.on('pong', () => (lastHeard = Date.now()));
  const pinger = setInterval(() => {
    if (Date.now() - lastHeard > LAUNCHER_SILENT_MS) {
      log(`job ${jobId}: no answer from the launcher for ${LAUNCHER_SILENT_MS / 1000} s; ending its ranks`);
      socket.terminate();
    } else if (socket.readyState === socket.OPEN) socket.ping();
  }, 1000);
  socket.on('error', (err) => log(`job ${jobId}: ${err.message}`));
  socket.on('close', () => {
    closed = true;
    clearInterval(pinger);
    // The launcher is gone or done: no rank of the job outlives it.
    for (const child of children.values()) child.kill('SIGTERM');
    const left = [...children.values()];
    if (left.length > 0) {
      setTimeout(() => {
        for (const child of left) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }, KILL_GRACE_MS).unref();
    }
    void rm(dir, { recursive: true, force: true });
    log(`job ${jobId} ended`);
  });
}
