import { readFileSync, statSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { packageRoot } from './bundle.ts';
import { ExitCode, runJob } from './job.ts';

const version = (JSON.parse(readFileSync(`${packageRoot}/package.json`, 'utf8')) as { version: string }).version;

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a whole number >= 1, got '${value}'.`);
    return n;
  };
}

function seconds(value: string): number {
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError(`must be a number of seconds > 0, got '${value}'.`);
  return n;
}

function envExport(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  const name = eq < 0 ? value : value.slice(0, eq);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new InvalidArgumentError(`'${name}' is not a variable name.`);
  const val = eq < 0 ? process.env[name] : value.slice(eq + 1);
  return val === undefined ? previous : { ...previous, [name]: val };
}

/** Parses dsrun's command line and runs the job; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const program = new Command('dsrun')
    .description('Run an SPMD dsmpi program as N ranks (processes) that talk over WebSockets.')
    .version(version, '-v, --version')
    .usage('-n N [options] program.ts [args...]')
    .addOption(new Option('-n, --np <N>', 'number of ranks').argParser(positiveInt('-n')).makeOptionMandatory())
    .option('--timeout <seconds>', 'kill the job after this long, reporting what each rank waits on (exit 124)', seconds)
    .option('--seed <n>', 'job seed for every rank\'s comm.random() (default: random, printed with --verbose)', positiveIntOrZero)
    .option('-x, --export <VAR[=value]>', 'set or pass an environment variable to every rank (repeatable)', envExport, {})
    .option('-q, --quiet', 'no [rank r] prefixes on output lines')
    .option('--no-bundle', 'load TypeScript in each rank with tsx instead of compiling the program once')
    .option('--max-payload <bytes>', 'largest message in bytes (default 64 MiB)', positiveInt('--max-payload'))
    .option('--verbose', 'print the job id, seed and timings to stderr')
    .argument('<program>', 'the program to run (.ts or .js)')
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
      const seed = (opts.seed as number | undefined) ?? Math.floor(Math.random() * 2 ** 31);
      if (opts.verbose) process.stderr.write(`dsrun: ${opts.np} ranks of ${file}, seed ${seed}\n`);
      exitCode = await runJob({
        np: opts.np as number,
        program: file,
        args,
        timeoutSec: opts.timeout as number | undefined,
        seed,
        env: opts.export as Record<string, string>,
        quiet: !!opts.quiet,
        bundle: opts.bundle !== false,
        maxPayload: opts.maxPayload as number | undefined,
      });
    });
  try {
    await program.parseAsync(argv, { from: 'user' });
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
