import { readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { packageRoot } from './package-root.ts';
import { noBundleProblem } from './no-bundle-check.ts';
import { judgeCapacity, thisMachine } from './capacity.ts';
import { parseDuration } from './duration.ts';
import { mpirunSpellings, NotSupported } from './mpirun-habits.ts';
import {
  checkRanks,
  parseDelay,
  parseKill,
  parsePartition,
  parsePause,
  parseProbability,
  type KillSpec,
  type PartitionSpec,
  type PauseSpec,
} from './fault-spec.ts';
import { ExitCode, runJob } from './job.ts';
import type { RankSpawner } from './spawner.ts';
import { ThreadSpawner } from './thread-ranks.ts';
import { Env, parseRadix } from '../runtime/protocol/rendezvous.ts';

const version = (JSON.parse(readFileSync(`${packageRoot}/package.json`, 'utf8')) as { version: string }).version;

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a whole number >= 1, got '${value}'.`);
    return n;
  };
}

/** A time (`5s`, `200ms`, `1m`, or a plain number in `plainUnit`), in milliseconds; `min` is the least allowed. */
function duration(plainUnit: 'ms' | 's', min: 'positive' | 'zero' = 'positive') {
  return (value: string): number => {
    let ms: number;
    try {
      ms = parseDuration(value, plainUnit);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message + '.');
    }
    if (min === 'positive' && !(ms > 0)) throw new InvalidArgumentError(`must be more than 0, got '${value}'.`);
    return ms;
  };
}

function envExport(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  const name = eq < 0 ? value : value.slice(0, eq);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new InvalidArgumentError(`'${name}' is not a variable name.`);
  const val = eq < 0 ? process.env[name] : value.slice(eq + 1);
  return val === undefined ? previous : { ...previous, [name]: val };
}

/** Wraps a fault-spec parser for commander: its error becomes a usage error (exit 2). */
function spec<T>(parse: (text: string) => T) {
  return (value: string): T => {
    try {
      return parse(value);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message + '.');
    }
  };
}

function repeatable<T>(parse: (text: string) => T) {
  const one = spec(parse);
  return (value: string, previous: T[] | undefined): T[] => [...(previous ?? []), one(value)];
}

const FAULT_HELP = `
Fault injection (docs/faults.md); times count from the start of the ranks, TIME is e.g. 200ms, 1.5s, 1m or plain seconds:
  --kill R@TIME               kill -9 rank R at TIME                      --kill 2@1.5s
  --pause R@TIME+DURATION     SIGSTOP rank R at TIME, SIGCONT after DURATION  --pause 3@1s+2s
  --drop P                    lose each message with probability P       --drop 0.1
  --delay MIN[..MAX]          hold each message a uniform MIN..MAX (per-pair order kept)  --delay 5ms..50ms
  --partition A|B[@T1[..T2]]  drop messages between rank lists A and B from T1 to T2  --partition 0,1|2,3,4@2s..5s
  --partition A>B[@T1[..T2]]  one way: only messages from A to B are dropped          --partition 0,1>2,3
Random choices derive from --seed (the same seed gives the same drops and delays per message).`;

/** `dsrun view run.jsonl [-o run.html] [--text] [--tags tags.json] [--compare other.jsonl]`: draws a trace. */
async function viewMain(argv: string[]): Promise<number> {
  const command = new Command('dsrun view')
    .description('Draw a trace (from dsrun --trace or the simulator) as a space-time diagram (docs/viewer.md).')
    .argument('<trace>', 'the trace file (JSONL)')
    .option('-o, --out <file>', 'where to write the HTML page (default: the trace name with .html)')
    .option('--text', 'print the run as text instead')
    .option('--report', 'print the run report instead: traffic per rank and tag, marked operations')
    .option('--tags <file>', 'JSON names for tags the trace does not name, e.g. {"Prepare": 1, "Promise": 2}')
    .option('--compare <trace>', 'a second run to show below the first, aligned by logical time, with where they first differ')
    .showHelpAfterError('(run dsrun view --help for usage)')
    .exitOverride()
    .action((trace: string, opts: { out?: string; text?: boolean; report?: boolean; tags?: string; compare?: string }) => {
      const { view } = viewModule!;
      try {
        const result = view(trace, opts);
        if (result.text !== undefined) process.stdout.write(result.text);
        else process.stderr.write(`dsrun: wrote ${result.written}\n`);
        if (result.difference !== undefined) process.stdout.write(`${result.difference}\n`);
      } catch (err) {
        command.error(`dsrun view: ${(err as Error).message}`, { exitCode: ExitCode.usage });
      }
    });
  const viewModule = await import('./view/command.ts');
  try {
    await command.parseAsync(argv, { from: 'user' });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'commander.helpDisplayed') return 0;
    return ExitCode.usage;
  }
  return ExitCode.ok;
}

/** `dsrun check history --model register|kv [-o out.html]`: checks a client history for linearizability. */
async function checkMain(argv: string[]): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const { checkCommand } = await import('./view/check-command.ts');
  const command = new Command('dsrun check')
    .description('Check a client history for linearizability (docs/checkers.md). Exit 0: linearizable, 1: not, 2: bad input, 3: gave up.')
    .argument('<history>', 'JSON lines (one operation a line), a JSON array, a Jepsen etcd log or a Knossos/Porcupine kv history')
    .addOption(new Option('--model <model>', 'the object the clients used').choices(['register', 'kv']).default('register'))
    .option('-o, --out <file>', 'where to draw a violation (default: the history name with .html)')
    .option('--timeout <time>', 'give up on the verdict after this long (exit 3): 30s, 500ms, 1m or plain seconds', duration('s'))
    .option(
      '--explain-timeout <time>',
      'time for finding a small illegal sub-history once the verdict is known (default 10s)',
      duration('s', 'zero'),
    )
    .showHelpAfterError('(run dsrun check --help for usage)')
    .exitOverride()
    .action((file: string, opts: { model: 'register' | 'kv'; out?: string; timeout?: number; explainTimeout?: number }) => {
      try {
        const options = { model: opts.model, out: opts.out, timeoutMs: opts.timeout, explainMs: opts.explainTimeout };
        exitCode = checkCommand(file, options, (line) => process.stdout.write(line + '\n'));
      } catch (err) {
        command.error(`dsrun check: ${(err as Error).message}`, { exitCode: ExitCode.usage });
      }
    });
  try {
    await command.parseAsync(argv, { from: 'user' });
  } catch (err) {
    return (err as { code?: string }).code === 'commander.helpDisplayed' ? 0 : ExitCode.usage;
  }
  return exitCode;
}

/** Parses dsrun's command line and runs the job (or a subcommand); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'view') return viewMain(argv.slice(1));
  // Multi-host code loads only when used, so a job on one machine starts as fast as before.
  if (argv[0] === 'agent') return (await import('./multi-host-cli.ts')).agentMain(argv.slice(1));
  if (argv[0] === 'rendezvous') return (await import('./multi-host-cli.ts')).rendezvousMain(argv.slice(1));
  if (argv[0] === 'check') return checkMain(argv.slice(1));
  let exitCode: number = ExitCode.ok;
  const program = new Command('dsrun')
    .description('Run an SPMD dsmpi program as N ranks: processes that talk over WebSockets, or threads (--threads).')
    .version(version, '-V, --version')
    .usage('[-n N] [options] program [args...]')
    .addOption(
      new Option('-n, --np <N>', 'number of ranks (also -np N, -c N); default: one per core, or per slot of --hosts').argParser(
        positiveInt('-n'),
      ),
    )
    .addOption(new Option('-c <N>', "number of ranks (mpirun's spelling)").argParser(positiveInt('-c')).hideHelp())
    .addOption(
      new Option(
        '-N, --npernode <N>',
        'ranks per host: N slots on every host of --hosts (N × hosts ranks without -n); N ranks on this machine',
      ).argParser(positiveInt('-N')),
    )
    .option(
      '--timeout <time>',
      'kill the job after this long (5s, 200ms, 1m, plain seconds), reporting what each rank waits on (exit 124)',
      duration('s'),
    )
    .option('--seed <n>', "job seed for every rank's comm.random() (default: random, printed with --verbose)", positiveIntOrZero)
    .option('-x, --export <VAR[=value]>', 'set or pass an environment variable to every rank (repeatable)', envExport, {})
    .option('-q, --quiet', 'no [rank r] prefixes on output lines')
    .option('--tag-output', "prefix output lines with [rank r] (the default; accepted for mpirun's sake)")
    .option('--no-bundle', 'load TypeScript in each rank with tsx instead of compiling the program once')
    .option('--max-payload <bytes>', 'largest payload of a message in bytes (default 64 MiB)', positiveInt('--max-payload'))
    .option(
      '--recv-buffer <bytes>',
      "bytes of one sender's unmatched messages a rank keeps before that sender's sends wait (default 64 MiB)",
      positiveInt('--recv-buffer'),
    )
    .option('-v, --verbose', 'print the number of ranks and the seed to stderr')
    .option(
      '--heartbeat-ms <time>',
      'ping every rank this often (plain: milliseconds); in jobs that survive failures, one silent for --heartbeat-misses pings is declared lost (0: off)',
      duration('ms', 'zero'),
      1000,
    )
    .option('--heartbeat-misses <n>', 'missed heartbeats before a rank is declared lost', positiveInt('--heartbeat-misses'), 5)
    .option('--kill <R@TIME>', 'kill -9 rank R at TIME (repeatable)', repeatable(parseKill))
    .option('--pause <R@TIME+DURATION>', 'stop rank R (SIGSTOP) at TIME for DURATION (repeatable)', repeatable(parsePause))
    .option('--drop <P>', 'lose each message with probability P', spec(parseProbability))
    .option('--delay <MIN..MAX>', 'hold each message a uniform time in MIN..MAX', spec(parseDelay))
    .option(
      '--partition <A|B@T1..T2>',
      'drop messages between two rank lists (A>B: one way) in a time window (repeatable)',
      repeatable(parsePartition),
    )
    .option(
      '--threads',
      'run the ranks as threads of one process, linked by in-process message channels instead of sockets (docs/threads.md)',
    )
    .option(
      '--poll',
      'ranks poll for messages while they wait instead of sleeping (default when ranks do not outnumber the cores of a host)',
    )
    .option('--no-poll', 'ranks sleep while they wait, woken by each message (the default when ranks outnumber the cores)')
    .option('--trace <file>', 'write every send, delivery, drop and fault to file (JSONL, docs/traces.md)')
    .option('--summary', 'at the end, print messages and bytes per rank and per tag')
    .option('-H, --hosts <list>', 'run on the agents of these hosts: host[:port]:slots,... (also --host; docs/multi-host.md)')
    .option('--hostfile <file>', 'hosts one a line: host[:port] slots=N (# comments; also -hostfile, --machinefile)')
    .option('--oversubscribe', 'allow more ranks than slots, or than the memory and open files of this machine hold')
    .option('--allow-run-as-root', "accepted for mpirun's sake; no effect")
    .option('--no-ship', 'do not send the program to the hosts: run the same path on each')
    .option('--tag-host', 'prefix output lines with [rank r@host]')
    .option('--iface <name|address>', 'interface or address the ranks bind and advertise on each host')
    .option('--secret-file <file>', "file holding the agents' shared secret (default: $DSMPI_SECRET)")
    .option(
      '--tls',
      'TLS on every link of a --hosts job: agents (started with --tls-cert/--tls-key), coordinator, ranks; needs --tls-cert/--tls-key',
    )
    .option('--tls-ca <file>', 'the CA (PEM) every certificate of the job must chain to (implies --tls)')
    .option('--tls-cert <file>', 'certificate (PEM) of the rendezvous coordinator on this machine (implies --tls)')
    .option('--tls-key <file>', 'private key of --tls-cert (PEM)')
    .option(
      '--insecure-plaintext',
      'a --hosts job without TLS: links authenticated but readable and alterable on the LAN (agents need --insecure-plaintext too)',
    )
    .addHelpText(
      'after',
      `${FAULT_HELP}

mpirun's options: -np, -c, -N, -H/--host, -hostfile/--machinefile, --tag-output and --allow-run-as-root
are accepted; --map-by, --rank-by, --bind-to, --mca are refused with the reason (docs/dsrun.md).
Standard input goes to rank 0.

Other commands:
  dsrun view run.jsonl [-o run.html] [--text] [--compare b.jsonl]   draw a trace as a space-time diagram
  dsrun check history --model register|kv       check a client history for linearizability
  dsrun agent --listen HOST:PORT                serve jobs on this machine for --hosts (docs/multi-host.md)
  dsrun rendezvous                              start ranks launched by mpirun or srun (docs/multi-host.md)`,
    )
    .argument('<program>', 'the program to run (.ts, .mts, .js or .mjs)')
    .argument('[args...]', 'arguments passed to every rank')
    .passThroughOptions()
    .showHelpAfterError('(run dsrun --help for usage)')
    .exitOverride()
    .action(async (file: string, args: string[], opts: Record<string, unknown>) => {
      try {
        if (!statSync(file).isFile()) throw new Error('not a file');
      } catch {
        program.error(`dsrun: cannot find program '${file}'`, { exitCode: ExitCode.usage });
      }
      const pollVar = (opts.export as Record<string, string>).DSMPI_POLL ?? process.env.DSMPI_POLL;
      if (pollVar !== undefined && pollVar !== '0' && pollVar !== '1')
        program.error(`dsrun: DSMPI_POLL must be 0 or 1, got '${pollVar}' (or use --poll / --no-poll)`, { exitCode: ExitCode.usage });
      if (opts.np !== undefined && opts.c !== undefined && opts.np !== opts.c) {
        program.error(`error: -n ${String(opts.np)} and -c ${String(opts.c)} disagree; give one`, { exitCode: ExitCode.usage });
      }
      const kill = (opts.kill as KillSpec[] | undefined) ?? [];
      const pause = (opts.pause as PauseSpec[] | undefined) ?? [];
      const partition = (opts.partition as PartitionSpec[] | undefined) ?? [];
      const multiHost = opts.hosts !== undefined || opts.hostfile !== undefined ? await import('./multi-host-cli.ts') : undefined;
      let np = 0;
      try {
        // No -n: one rank per slot of the hosts, or per core of this machine (as mpirun does).
        np = (opts.np ?? opts.c ?? (multiHost ? multiHost.slotsOf(opts) : (opts.npernode ?? availableParallelism()))) as number;
        checkRanks(np, { kill, pause, partition });
        parseRadix({ ...process.env, ...(opts.export as Record<string, string> | undefined) }[Env.collectiveRadix]);
      } catch (err) {
        program.error(`error: ${(err as Error).message}`, { exitCode: ExitCode.usage });
      }
      const drop = opts.drop as number | undefined;
      const delay = opts.delay as { minMs: number; maxMs: number } | undefined;
      const network =
        drop || delay || partition.length > 0 ? { drop, delay, partitions: partition.length > 0 ? partition : undefined } : undefined;
      if (!multiHost && [opts.tls, opts.tlsCa, opts.tlsCert, opts.tlsKey, opts.insecurePlaintext].some((o) => o !== undefined)) {
        program.error(
          'error: --tls, --tls-ca, --tls-cert, --tls-key and --insecure-plaintext apply to jobs on several hosts (--hosts/--hostfile)',
          {
            exitCode: ExitCode.usage,
          },
        );
      }
      if (opts.threads) {
        const clash = multiHost ? '--hosts/--hostfile' : pause.length > 0 ? '--pause' : opts.bundle === false ? '--no-bundle' : undefined;
        if (clash) program.error(`error: --threads cannot be used with ${clash} (docs/threads.md)`, { exitCode: ExitCode.usage });
      }
      const noBundle = opts.bundle === false ? noBundleProblem(file) : undefined;
      if (noBundle) program.error(`error: ${noBundle}`, { exitCode: ExitCode.usage });
      if (!multiHost) {
        const verdict = judgeCapacity(np, opts.threads ? 'thread' : 'process', thisMachine());
        if (verdict.refuse && !opts.oversubscribe) {
          program.error(
            `error: ${verdict.refuse}; use fewer ranks${opts.threads ? '' : ', --threads'}, or --oversubscribe to start anyway`,
            {
              exitCode: ExitCode.usage,
            },
          );
        }
        const warning = verdict.refuse ?? verdict.warn;
        if (warning) process.stderr.write(`dsrun: warning: ${warning}\n`);
      }
      let spawner: RankSpawner | undefined = opts.threads ? new ThreadSpawner(np, !!opts.quiet) : undefined;
      try {
        spawner ??= multiHost?.remoteSpawnerFrom(opts, np, (line) => process.stderr.write(`dsrun: ${line}\n`));
      } catch (err) {
        program.error(`error: ${(err as Error).message}`, { exitCode: ExitCode.usage });
      }
      const seed = (opts.seed as number | undefined) ?? Math.floor(Math.random() * 2 ** 31);
      if (opts.verbose) process.stderr.write(`dsrun: ${np} ranks of ${file}, seed ${seed}\n`);
      const timeoutMs = opts.timeout as number | undefined;
      exitCode = await runJob({
        np,
        program: spawner && multiHost ? multiHost.programPathFor(file, opts) : file,
        args,
        timeoutSec: timeoutMs === undefined ? undefined : timeoutMs / 1000,
        seed,
        command: replayCommand(seed, opts.seed === undefined),
        env: opts.export as Record<string, string>,
        quiet: !!opts.quiet,
        bundle: opts.bundle !== false && !(spawner && opts.ship === false),
        maxPayload: opts.maxPayload as number | undefined,
        recvBufferBytes: opts.recvBuffer as number | undefined,
        heartbeatMs: opts.heartbeatMs as number,
        heartbeatMisses: opts.heartbeatMisses as number,
        kill,
        pause,
        network,
        tracePath: opts.trace as string | undefined,
        summary: !!opts.summary,
        poll: opts.poll as boolean | undefined,
        spawner,
      });
    });
  let translated: string[];
  try {
    translated = mpirunSpellings(argv, (flag) => {
      const option = program.options.find((o) => o.short === flag || o.long === flag);
      return !!option && (option.required || option.optional);
    });
  } catch (err) {
    if (!(err instanceof NotSupported)) throw err;
    process.stderr.write(`dsrun: ${err.message}\n(run dsrun --help for usage)\n`);
    return ExitCode.usage;
  }
  try {
    await program.parseAsync(translated, { from: 'user' });
  } catch (err) {
    const code = (err as { exitCode?: number; code?: string }).exitCode;
    if ((err as { code?: string }).code === 'commander.helpDisplayed' || (err as { code?: string }).code === 'commander.version') return 0;
    return code === undefined || code === 1 ? ExitCode.usage : code;
  }
  return exitCode;
}

function positiveIntOrZero(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`must be a whole number >= 0, got '${value}'.`);
  return n;
}

/** The command line that runs this job again: dsrun's own arguments, with the seed when it was drawn. */
function replayCommand(seed: number, seedDrawn: boolean): string {
  const quote = (a: string): string => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return ['npx', 'dsrun', ...(seedDrawn ? ['--seed', String(seed)] : []), ...process.argv.slice(2)].map(quote).join(' ');
}
