/**
 * Command-line parts of multi-host runs (docs/multi-host.md): `dsrun agent`, `dsrun rendezvous`
 * (for mpirun and srun), and the --hosts/--hostfile options of a job.
 */
import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { ranksKey } from '../runtime/protocol/keys.ts';
import { DEFAULT_RENDEZVOUS_JOB } from '../runtime/protocol/rendezvous.ts';
import { SECRET_ENV } from '../runtime/protocol/agent-messages.ts';
import { isLoopback, startAgent } from './agent.ts';
import { Coordinator } from './coordinator.ts';
import { DEFAULT_AGENT_PORT, parseHostfile, parseHostList, placeRanks, type HostEntry } from './hosts.ts';
import { RemoteSpawner, type RemoteOptions } from './remote-job.ts';

const USAGE = 2;

/** The shared secret: from a file (first line, trimmed) or $DSMPI_SECRET; '' if neither. */
export function readSecret(file: string | undefined): string {
  if (file) {
    const secret = readFileSync(file, 'utf8').split('\n')[0].trim();
    if (!secret) throw new Error(`the secret file ${file} is empty`);
    return secret;
  }
  return process.env[SECRET_ENV] ?? '';
}

/** A server's certificate and key from --tls-cert/--tls-key (both or neither). */
function readServerTls(certFile: string | undefined, keyFile: string | undefined): { cert: Buffer; key: Buffer } | undefined {
  if (!certFile !== !keyFile) throw new Error('--tls-cert and --tls-key go together');
  return certFile ? { cert: readFileSync(certFile), key: readFileSync(keyFile!) } : undefined;
}

function listenAddress(text: string, defaultPort: number): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*))(?::(\d+))?$/.exec(text);
  if (!m) throw new InvalidArgumentError(`'${text}' is not host[:port].`);
  const port = m[3] === undefined ? defaultPort : Number(m[3]);
  if (!(port >= 0 && port <= 65535)) throw new InvalidArgumentError(`bad port in '${text}'.`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

async function parseSub(command: Command, argv: string[]): Promise<number | undefined> {
  command.exitOverride().showHelpAfterError();
  try {
    await command.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if ((err as { code?: string }).code === 'commander.helpDisplayed') return 0;
    return USAGE;
  }
  return undefined;
}

/** `dsrun agent [--listen host:port] [--secret-file F] [--advertise ADDR|IFACE] [--tls-cert F --tls-key F]`. */
export async function agentMain(argv: string[]): Promise<number> {
  let opts: Record<string, string | undefined> = {};
  const command = new Command('dsrun agent')
    .description('Run ranks on this host for dsrun launchers that hold the shared secret (docs/multi-host.md).')
    .option('--listen <host:port>', `where to listen (default 127.0.0.1:${DEFAULT_AGENT_PORT})`)
    .option('--secret-file <file>', `file holding the shared secret (default: $${SECRET_ENV})`)
    .option('--advertise <address|iface>', 'address or interface the ranks bind and advertise (default: the address the launcher reached)')
    .option('--tls-cert <file>', 'serve wss:// with this certificate (PEM)')
    .option('--tls-key <file>', 'private key of --tls-cert (PEM)')
    .option('--max-frame <bytes>', 'largest frame accepted from a launcher (default 256 MiB)')
    .option('--insecure-plaintext', 'serve plain ws:// off loopback (default: TLS-PSK from the shared secret); launchers need it too')
    .action((o: Record<string, string | undefined>) => {
      opts = o;
    });
  const early = await parseSub(command, argv);
  if (early !== undefined) return early;
  let listen: { host: string; port: number };
  let secret: string;
  try {
    listen = listenAddress(opts.listen ?? `127.0.0.1:${DEFAULT_AGENT_PORT}`, DEFAULT_AGENT_PORT);
    secret = readSecret(opts.secretFile);
  } catch (err) {
    process.stderr.write(`dsrun agent: ${(err as Error).message}\n`);
    return USAGE;
  }
  if (!secret && !isLoopback(listen.host)) {
    process.stderr.write(
      `dsrun agent: refusing to listen on ${listen.host} without a shared secret: pass --secret-file or set $${SECRET_ENV}\n`,
    );
    return USAGE;
  }
  if (!!opts.tlsCert !== !!opts.tlsKey) {
    process.stderr.write('dsrun agent: --tls-cert and --tls-key go together\n');
    return USAGE;
  }
  if (opts.insecurePlaintext && opts.tlsCert) {
    process.stderr.write('dsrun agent: --insecure-plaintext and --tls-cert contradict each other\n');
    return USAGE;
  }
  const agent = await startAgent({
    ...listen,
    secret,
    advertise: opts.advertise,
    maxFrameBytes: opts.maxFrame ? Number(opts.maxFrame) : undefined,
    tls: opts.tlsCert ? { cert: readFileSync(opts.tlsCert), key: readFileSync(opts.tlsKey!) } : undefined,
    insecurePlaintext: !!opts.insecurePlaintext,
  }).catch((err: Error) => err);
  if (agent instanceof Error) {
    process.stderr.write(`dsrun agent: cannot listen on ${listen.host}:${listen.port}: ${agent.message}\n`);
    return 1;
  }
  if (!secret) process.stderr.write('dsrun agent: no shared secret: only launchers on this machine can reach a loopback agent\n');
  if (opts.insecurePlaintext && !isLoopback(listen.host)) {
    process.stderr.write(
      'dsrun agent: warning: --insecure-plaintext: jobs, programs and output travel readable and alterable on the network\n',
    );
  }
  process.stdout.write(`dsrun agent: listening on ${agent.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      void agent.close().then(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  // Give the ranks' SIGTERM a moment to land before the agent goes.
  await new Promise((resolve) => setTimeout(resolve, 100));
  return 0;
}

/**
 * `dsrun rendezvous -n N [--listen host:port] [--job ID] [--tls-cert F --tls-key F]`: the rendezvous
 * of one job started by another launcher (mpirun, srun). Ends when every rank is done (exit 0) or one
 * aborts (its code).
 */
export async function rendezvousMain(argv: string[]): Promise<number> {
  let opts: Record<string, string | undefined> = {};
  const command = new Command('dsrun rendezvous')
    .description('Rendezvous for ranks started by mpirun or srun (docs/multi-host.md); ranks find it through $DSMPI_RENDEZVOUS.')
    .requiredOption('-n, --np <N>', 'number of ranks')
    .option('--listen <host:port>', 'where to listen (default 127.0.0.1:0, any free port)')
    .option('--job <id>', `job id, the same as the ranks' $DSMPI_JOB (default ${DEFAULT_RENDEZVOUS_JOB})`)
    .option('--secret-file <file>', `file holding the shared secret (default: $${SECRET_ENV})`)
    .option('--tls-cert <file>', 'serve wss:// with this certificate (PEM); the ranks then need DSMPI_TLS_CERT/KEY/CA')
    .option('--tls-key <file>', 'private key of --tls-cert (PEM)')
    .option('--tls-psk', 'serve wss:// with TLS-PSK from the shared secret (no certificates); the ranks need DSMPI_SECRET')
    .action((o: Record<string, string | undefined>) => {
      opts = o;
    });
  const early = await parseSub(command, argv);
  if (early !== undefined) return early;
  const np = Number(opts.np);
  if (!Number.isInteger(np) || np < 1) {
    process.stderr.write(`dsrun rendezvous: -n must be a whole number >= 1\n`);
    return USAGE;
  }
  let listen: { host: string; port: number };
  let secret: string;
  let tls: { cert: Buffer; key: Buffer } | 'psk' | undefined;
  try {
    listen = listenAddress(opts.listen ?? '127.0.0.1:0', 0);
    secret = readSecret(opts.secretFile);
    tls = readServerTls(opts.tlsCert, opts.tlsKey);
    if (opts.tlsPsk && tls) throw new Error('--tls-psk and --tls-cert contradict each other');
    if (opts.tlsPsk) tls = 'psk';
  } catch (err) {
    process.stderr.write(`dsrun rendezvous: ${(err as Error).message}\n`);
    return USAGE;
  }
  if (!secret && !isLoopback(listen.host)) {
    process.stderr.write(
      `dsrun rendezvous: refusing to listen on ${listen.host} without a shared secret: pass --secret-file or set $${SECRET_ENV}\n`,
    );
    return USAGE;
  }
  const jobId = opts.job ?? DEFAULT_RENDEZVOUS_JOB;
  let done = 0;
  let registered = 0;
  let resolveEnd: (code: number) => void = () => {};
  const ended = new Promise<number>((resolve) => (resolveEnd = resolve));
  const log = (line: string): void => void process.stderr.write(`dsrun rendezvous: ${line}\n`);
  const coordinator: Coordinator = await Coordinator.start(
    { jobId, key: ranksKey(secret, jobId), size: np, host: listen.host, port: listen.port, tls },
    {
      hello: () => {
        if (++registered === np) coordinator.start(Date.now());
      },
      done: () => {
        if (++done === np) {
          coordinator.finish();
          resolveEnd(0);
        }
      },
      abort: (rank, code, reason) => {
        log(`rank ${rank} failed (exit code ${code}): ${reason.split('\n')[0]}`);
        resolveEnd(code || 1);
      },
      warn: log,
    },
  );
  process.stdout.write(`DSMPI_RENDEZVOUS=${coordinator.url}\n`);
  const stop = (): void => resolveEnd(130);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const code = await ended;
  // Let `finish` reach the ranks before the sockets close.
  await new Promise((resolve) => setTimeout(resolve, 200));
  await coordinator.close();
  return code;
}

/** The hosts of --hosts or --hostfile, or undefined for a job on this machine. */
function hostsOf(opts: Record<string, unknown>): HostEntry[] | undefined {
  const list = opts.hosts as string | undefined;
  const file = opts.hostfile as string | undefined;
  if (list === undefined && file === undefined) return undefined;
  if (list !== undefined && file !== undefined) throw new Error('give --hosts or --hostfile, not both');
  const hosts = list !== undefined ? parseHostList(list) : parseHostfile(readFileSync(file!, 'utf8'), file);
  // -N (mpirun's ranks per node) gives every host that many slots.
  const perHost = opts.npernode as number | undefined;
  return perHost === undefined ? hosts : hosts.map((h) => ({ ...h, slots: perHost }));
}

/** The slots of all the hosts of --hosts or --hostfile: the ranks of a job without -n. */
export function slotsOf(opts: Record<string, unknown>): number {
  return (hostsOf(opts) ?? []).reduce((sum, h) => sum + h.slots, 0);
}

/**
 * The spawner of a job with --hosts or --hostfile, or undefined for a job on this machine. Throws a
 * usage error (its message) for a bad host list, too few slots, or a missing secret.
 */
export function remoteSpawnerFrom(opts: Record<string, unknown>, np: number, log: (line: string) => void): RemoteSpawner | undefined {
  const hosts = hostsOf(opts);
  if (!hosts) return undefined;
  const placement = placeRanks(hosts, np, !!opts.oversubscribe);
  const secret = readSecret(opts.secretFile as string | undefined);
  if (!secret && !hosts.every((h) => isLoopback(h.host))) {
    throw new Error(`remote hosts need the agents' shared secret: pass --secret-file or set $${SECRET_ENV}`);
  }
  const ship = opts.ship !== false;
  const tlsAsked = !!opts.tls || [opts.tlsCa, opts.tlsCert, opts.tlsKey].some((o) => o !== undefined);
  const coordinatorTls = readServerTls(opts.tlsCert as string | undefined, opts.tlsKey as string | undefined);
  if (tlsAsked && !coordinatorTls) {
    throw new Error(
      'TLS covers every link of the job, so the rendezvous coordinator on this machine needs a certificate too: add --tls-cert FILE --tls-key FILE (naming the addresses the hosts reach this machine by)',
    );
  }
  if (tlsAsked && opts.insecurePlaintext) throw new Error('--insecure-plaintext and the --tls options contradict each other');
  // Encrypted by default across machines: certificates if given, else TLS-PSK from the secret.
  let tls: RemoteOptions['tls'];
  if (coordinatorTls) tls = { kind: 'cert', ...coordinatorTls, ca: opts.tlsCa ? readFileSync(opts.tlsCa as string) : undefined };
  else if (!opts.insecurePlaintext && !hosts.every((h) => isLoopback(h.host))) tls = { kind: 'psk' };
  if (opts.insecurePlaintext) {
    log('warning: --insecure-plaintext: the program, its output and every message travel readable and alterable on the network');
  }
  return new RemoteSpawner({
    hosts,
    placement,
    secret,
    ship,
    bundled: ship && opts.bundle !== false,
    tagHost: !!opts.tagHost,
    quiet: !!opts.quiet,
    iface: opts.iface as string | undefined,
    tls,
    trace: opts.trace !== undefined || !!opts.summary,
    log,
  });
}

/** With --no-ship the agents run the program's path: make it absolute (the same on every host). */
export function programPathFor(file: string, opts: Record<string, unknown>): string {
  return opts.ship === false ? resolvePath(file) : file;
}
