/**
 * The launcher's side of multi-host runs: connects to the `dsrun agent` of each host (authenticated
 * both ways with the shared secret), ships the program, starts each rank on its host and brings its
 * output and exit back, so that job.ts runs the job as it does on one machine (docs/multi-host.md).
 */
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { appendFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { PassThrough } from 'node:stream';
import { nanoid } from 'nanoid';
import type { AgentToLauncher, LauncherToAgent } from '../runtime/protocol/agent-messages.ts';
import { decodeValue, encodeValue } from '../runtime/protocol/control-codec.ts';
import { epochMs } from '../runtime/protocol/epoch-clock.ts';
import { Party } from '../runtime/protocol/handshake.ts';
import { agentKey, ranksKey, tlsKey } from '../runtime/protocol/keys.ts';
import { Env } from '../runtime/protocol/rendezvous.ts';
import { PingWatch } from './ping-watch.ts';
import { dial, isOpen, type ClientTls, type WebSocket } from '../runtime/protocol/ws-dial.ts';
import type { HostEntry } from './hosts.ts';
import type { RankSpawner } from './spawner.ts';

export interface RemoteOptions {
  hosts: HostEntry[];
  /** Host index of each rank (hosts.ts placeRanks). */
  placement: number[];
  secret: string;
  /** Ship the bundle (default); false: run the same path on every host (--no-ship). */
  ship: boolean;
  /** The entry is a bundle (false: --no-bundle, which implies running the path with tsx). */
  bundled: boolean;
  tagHost: boolean;
  quiet: boolean;
  /** Interface name or address the ranks bind on each host (--iface). */
  iface?: string;
  /**
   * TLS on every link of the job (docs/security.md): wss:// to the agents, the coordinator and
   * between ranks; undefined: plain ws:// (loopback hosts, or --insecure-plaintext). 'psk': TLS-PSK
   * with the job's keys (the default); or certificates verified against `ca` (PEM; absent: the
   * system's CAs), `cert`/`key` being the coordinator's.
   */
  tls?: { kind: 'psk' } | { kind: 'cert'; cert: Buffer; key: Buffer; ca?: Buffer };
  /** The job is traced (--trace, --summary): measure each host's clock before the ranks start. */
  trace?: boolean;
  log: (line: string) => void;
}

/**
 * How often the launcher pings each agent, and how many pings in a row left unanswered mean the host
 * is lost. Pings are counted, not milliseconds: a launcher that got no CPU for a while (a loaded
 * machine) finds the answers waiting once it reads its sockets, and takes no stall of its own for a host's.
 */
const PING_MS = 1000;
const LOST_AFTER_PINGS = 6;
/** Clock probes per host; the one with the shortest round trip gives the offset. */
const CLOCK_PROBES = 8;
const CLOCK_PROBE_TIMEOUT_MS = 2000;

/** A rank on another host, seen by job.ts as a child process. */
class RemoteChild extends EventEmitter {
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  pid: number | undefined;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  ended = false;

  constructor(private readonly signal: (signal: NodeJS.Signals) => void) {
    super();
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (this.ended) return false;
    this.signal(signal);
    return true;
  }

  finish(code: number | null, signal: NodeJS.Signals | null, error?: string): void {
    if (this.ended) return;
    this.ended = true;
    this.exitCode = code;
    this.signalCode = signal;
    this.stdout.end();
    this.stderr.end();
    if (error !== undefined) this.emit('error', new Error(error));
    this.emit('exit', code ?? (signal ? null : 125), signal);
  }
}

interface AgentLink {
  index: number;
  entry: HostEntry;
  socket: WebSocket;
  /** This launcher's address as the agent's network sees it (for the rendezvous URL). */
  localAddress: string;
  children: Map<number, RemoteChild>;
  lost: boolean;
  /** Whether the agent still answers (launcher/ping-watch.ts). */
  heartbeat: PingWatch;
  hostname?: string;
  /** The host's available parallelism, as its agent reports it. */
  cores?: number;
  /** How far the host's clock is ahead of this machine's (ms), measured when the job is traced. */
  clockOffsetMs: number;
  clockAnswers: Map<number, (agentMs: number) => void>;
  /** Why the host was lost, once it is. */
  lostReason?: string;
  ready: Promise<void>;
  /** Fails `ready` (the agent went away before it was ready). */
  notReady: (err: Error) => void;
}

/** A failed agent connection, with what probably went wrong when TLS does not match. */
function explainAgentFailure(message: string, tls: 'psk' | 'cert' | undefined): string {
  if (/wrong version number/.test(message)) {
    const fix = tls === 'cert' ? 'start it with --tls-cert F --tls-key F' : 'it was started with --insecure-plaintext';
    return `it does not serve TLS (${fix}): ${message}`;
  }
  if (tls === 'psk' && /alert|EPROTO/i.test(message)) {
    return `the TLS-PSK handshake failed (not the same shared secret? or an agent with a certificate: then pass --tls-cert/--tls-key/--tls-ca): ${message}`;
  }
  if (!tls && /socket hang up|ECONNRESET|Unexpected server response/.test(message)) {
    return `${message} (the agent serves TLS: run without --insecure-plaintext)`;
  }
  return message;
}

function bracket(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

export class RemoteSpawner implements RankSpawner {
  readonly jobId = nanoid(12);
  readonly ranksKey: Buffer;
  /** Opens this job's agent connections; only the launcher and the agents can derive it. */
  private readonly agentKey: Buffer;
  readonly coordinatorHost: string;
  readonly coordinatorTls: { cert: Buffer; key: Buffer } | 'psk' | undefined;
  private readonly links = new Map<number, AgentLink>();
  /** Where this machine keeps the trace of each traced rank (the path job.ts gave it). */
  private readonly tracePaths = new Map<number, string>();
  private nextClockProbe = 1;
  private pingTimer: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(private readonly options: RemoteOptions) {
    this.ranksKey = ranksKey(options.secret, this.jobId);
    this.agentKey = agentKey(options.secret, this.jobId);
    // Every interface: each agent's ranks get the launcher address their own network reaches.
    this.coordinatorHost = '0.0.0.0';
    const tls = options.tls;
    this.coordinatorTls = tls && (tls.kind === 'psk' ? 'psk' : { cert: tls.cert, key: tls.key });
  }

  async start(entry: string, args: string[], exported: Record<string, string>): Promise<void> {
    this.exported = exported;
    const used = [...new Set(this.options.placement)];
    let program: LauncherToAgent;
    // Certificates: the agents hand theirs to their ranks, with this CA. TLS-PSK needs no files.
    const tls = this.options.tls?.kind === 'cert' ? { ca: this.options.tls.ca } : undefined;
    if (this.options.ship && this.options.bundled) {
      const [code, map] = await Promise.all([readFile(entry), readFile(`${entry}.map`).catch(() => undefined)]);
      program = { t: 'program', name: basename(entry), code, map, args, iface: this.options.iface, tls };
    } else {
      program = { t: 'program', name: basename(entry), path: entry, args, iface: this.options.iface, tls };
    }
    await Promise.all(used.map((i) => this.connect(i)));
    for (const link of this.links.values()) link.socket.send(encodeValue(program));
    await Promise.all([...this.links.values()].map((l) => l.ready));
    if (this.options.trace) await Promise.all([...this.links.values()].map((l) => this.measureClock(l)));
    this.pingTimer = setInterval(() => this.checkAgents(), PING_MS);
    this.pingTimer.unref();
  }

  private exported: Record<string, string> = {};

  spawn(rank: number, env: NodeJS.ProcessEnv): ChildProcess {
    const link = this.links.get(this.options.placement[rank])!;
    const child = new RemoteChild((signal) => this.sendTo(link, { t: 'signal', rank, signal }));
    link.children.set(rank, child);
    const remoteEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries(env)) {
      if (v !== undefined && (k.startsWith('DSMPI_') || k in this.exported)) remoteEnv[k] = v;
    }
    // Nothing secret travels: each agent derives the job's ranks key from its own secret.
    delete remoteEnv.DSMPI_SECRET;
    delete remoteEnv[Env.token];
    // This machine's paths and clock anchor: the agent gives its ranks its own TLS and trace files and anchor.
    for (const name of [Env.tlsCert, Env.tlsKey, Env.tlsCa, Env.trace, Env.clockAnchor]) delete remoteEnv[name];
    // A directory of this machine too, but empty turns the agent's local links off.
    if (remoteEnv[Env.localLinks]) delete remoteEnv[Env.localLinks];
    const tracePath = env[Env.trace];
    if (tracePath) this.tracePaths.set(rank, tracePath);
    // Unless --poll/--no-poll decided for all: ranks poll on a host that has a core for each of them.
    if (remoteEnv[Env.poll] === undefined) {
      const here = this.options.placement.filter((host) => host === link.index).length;
      remoteEnv[Env.poll] = link.cores !== undefined && here <= link.cores ? '1' : '0';
    }
    const rendezvous = env[Env.rendezvous];
    if (rendezvous) {
      const url = new URL(rendezvous);
      remoteEnv[Env.rendezvous] = `${url.protocol}//${bracket(link.localAddress)}:${url.port}`;
    }
    // Standard input goes to rank 0, as with mpirun.
    const stdin = rank === 0;
    if (link.lost) setImmediate(() => child.finish(null, 'SIGKILL'));
    else this.sendTo(link, { t: 'spawn', rank, env: remoteEnv, trace: tracePath ? true : undefined, stdin: stdin || undefined });
    if (stdin) this.forwardInput(link, rank, child);
    return child as unknown as ChildProcess;
  }

  /** Sends this launcher's standard input to a rank on its host, until the input ends or the rank does. */
  private forwardInput(link: AgentLink, rank: number, child: RemoteChild): void {
    const input = process.stdin;
    const onData = (data: Buffer): void => this.sendTo(link, { t: 'stdin', rank, data });
    const onEnd = (): void => this.sendTo(link, { t: 'stdin', rank, end: true });
    input.on('data', onData).once('end', onEnd);
    child.once('exit', () => {
      input.off('data', onData).off('end', onEnd);
      // Stop reading, so that the input does not keep dsrun alive.
      input.destroy();
    });
  }

  /** How far the clock of the rank's host is ahead of this machine's (0 until measured). */
  clockOffsetMs(rank: number): number {
    return this.links.get(this.options.placement[rank])?.clockOffsetMs ?? 0;
  }

  /** Why the rank's host was lost (`host a:7411 lost (...)`), if it was. */
  lostReason(rank: number): string | undefined {
    const link = this.links.get(this.options.placement[rank]);
    return link?.lostReason && `${this.describe(link)} lost (${link.lostReason})`;
  }

  prefix(rank: number): string {
    if (this.options.quiet) return '';
    if (!this.options.tagHost) return `[rank ${rank}] `;
    return `[rank ${rank}@${this.options.hosts[this.options.placement[rank]].host}] `;
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.pingTimer) clearInterval(this.pingTimer);
    for (const link of this.links.values()) link.socket.close(1000, 'job done');
  }

  private describe(link: AgentLink): string {
    return `host ${link.entry.host}:${link.entry.port}`;
  }

  private sendTo(link: AgentLink, msg: LauncherToAgent): void {
    if (isOpen(link.socket)) link.socket.send(encodeValue(msg));
  }

  /**
   * The host's clock offset, NTP-style: the agent reads its clock between our send and receive, so
   * offset = agent time - midpoint, off by at most half the round trip; the shortest round trip wins.
   */
  private async measureClock(link: AgentLink): Promise<void> {
    let best: { rttMs: number; offsetMs: number } | undefined;
    for (let i = 0; i < CLOCK_PROBES; i++) {
      const id = this.nextClockProbe++;
      const sentAt = epochMs();
      const agentMs = await new Promise<number | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), CLOCK_PROBE_TIMEOUT_MS);
        link.clockAnswers.set(id, (ms) => {
          clearTimeout(timer);
          resolve(ms);
        });
        this.sendTo(link, { t: 'clock', id });
      });
      link.clockAnswers.delete(id);
      if (agentMs === undefined) break;
      const receivedAt = epochMs();
      const rttMs = receivedAt - sentAt;
      if (!best || rttMs < best.rttMs) best = { rttMs, offsetMs: agentMs - (sentAt + receivedAt) / 2 };
    }
    if (best) link.clockOffsetMs = best.offsetMs;
    else this.options.log(`${this.describe(link)}: no answer to clock probes; its trace times are taken as they are`);
  }

  private agentTls(): ClientTls | undefined {
    const tls = this.options.tls;
    if (!tls) return undefined;
    return tls.kind === 'psk' ? { psk: tlsKey(this.agentKey, 'agent'), identity: this.jobId } : { ca: tls.ca };
  }

  private connect(index: number): Promise<void> {
    const entry = this.options.hosts[index];
    const url = `${this.options.tls ? 'wss' : 'ws'}://${bracket(entry.host)}:${entry.port}`;
    let readyResolve: () => void = () => {};
    let readyReject: (err: Error) => void = () => {};
    const ready = new Promise<void>((resolve, reject) => {
      readyResolve = resolve;
      readyReject = reject;
    });
    ready.catch(() => {});
    return new Promise<void>((resolve, reject) => {
      dial(
        {
          url,
          hello: { purpose: 'agent', jobId: this.jobId, from: Party.launcher, to: Party.agent },
          key: this.agentKey,
          tls: this.agentTls(),
          ws: { maxPayload: 64 * 1024 * 1024 },
        },
        {
          fail: (err) => reject(new Error(`cannot use the agent at ${url}: ${explainAgentFailure(err.message, this.options.tls?.kind)}`)),
          open: (socket) => {
            const link: AgentLink = {
              index,
              entry,
              socket,
              localAddress:
                (socket as unknown as { _socket: { localAddress?: string } })._socket.localAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
              children: new Map(),
              lost: false,
              heartbeat: new PingWatch(socket, LOST_AFTER_PINGS),
              clockOffsetMs: 0,
              clockAnswers: new Map(),
              ready,
              notReady: readyReject,
            };
            this.links.set(index, link);
            socket.on('message', (data: Buffer) => {
              let msg: AgentToLauncher;
              try {
                msg = decodeValue(data) as AgentToLauncher;
              } catch {
                this.options.log(`${this.describe(link)}: malformed frame ignored`);
                return;
              }
              this.onMessage(link, msg, readyResolve, readyReject);
            });
            socket.on('error', (err) => this.options.log(`${this.describe(link)}: ${err.message}`));
            socket.on('close', () => this.agentLost(link, 'agent connection closed'));
            resolve();
          },
        },
      );
    });
  }

  private onMessage(link: AgentLink, msg: AgentToLauncher, ready: () => void, notReady: (err: Error) => void): void {
    switch (msg?.t) {
      case 'ready':
        link.hostname = msg.hostname;
        link.cores = typeof msg.cores === 'number' ? msg.cores : undefined;
        ready();
        break;
      case 'error':
        this.options.log(`${this.describe(link)}: ${msg.message}`);
        notReady(new Error(`${this.describe(link)}: ${msg.message}`));
        break;
      case 'spawned': {
        const child = link.children.get(msg.rank);
        if (child) child.pid = msg.pid;
        break;
      }
      case 'out': {
        const child = link.children.get(msg.rank);
        if (child && !child.ended) (msg.fd === 2 ? child.stderr : child.stdout).write(msg.data);
        break;
      }
      case 'clock':
        link.clockAnswers.get(msg.id)?.(msg.ms);
        break;
      case 'trace': {
        const path = this.tracePaths.get(msg.rank);
        const child = link.children.get(msg.rank);
        if (path && child && !child.ended) appendFileSync(path, msg.data);
        break;
      }
      case 'exit':
        link.children.get(msg.rank)?.finish(msg.code, msg.signal, msg.error);
        break;
    }
  }

  private checkAgents(): void {
    for (const link of this.links.values()) {
      if (link.lost) continue;
      const silentMs = link.heartbeat.tick();
      if (silentMs === undefined) continue;
      link.socket.terminate();
      this.agentLost(link, `no answer for ${(silentMs / 1000).toFixed(1)} s`);
    }
  }

  /** The host is unreachable or its agent died: its ranks count as killed. */
  private agentLost(link: AgentLink, why: string): void {
    if (link.lost) return;
    link.lost = true;
    link.notReady(new Error(`${this.describe(link)}: ${why} before the program was ready (a frame over the agent's --max-frame?)`));
    const running = [...link.children.entries()].filter(([, c]) => !c.ended).map(([r]) => r);
    if (this.closing && running.length === 0) return;
    link.lostReason = why;
    if (running.length > 0) this.options.log(`${this.describe(link)} lost (${why}); its rank(s) ${running.join(', ')} are lost`);
    for (const r of running) {
      // A trace cut off mid-way is dropped whole: the merged trace marks the rank untraced instead.
      const tracePath = this.tracePaths.get(r);
      if (tracePath) rmSync(tracePath, { force: true });
      link.children.get(r)!.finish(null, 'SIGKILL');
    }
  }
}
