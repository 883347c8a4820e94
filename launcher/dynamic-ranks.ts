import { Env } from '../runtime/protocol/rendezvous.ts';
import { bundleProgram } from './bundle.ts';

/** Most ranks one spawn may ask for, and most ranks a job may reach (spawned ones included). */
const MAX_PER_SPAWN = 1024;
const MAX_RANKS = 1 << 16;

export interface DynamicRanksOptions {
  np: number;
  jobId: string;
  /** The job's program and arguments: what children run by default. */
  program: string;
  args: string[];
  /** Compile other programs with esbuild (as dsrun does the job's program) rather than load them with tsx. */
  bundle: boolean;
  /** Node's arguments to run an entry file (the bundle, or the source with tsx). */
  nodeArgs(entry: string): string[];
  /** The job's own entry (bundle or source). */
  entry: string;
  /** Starts world rank `rank` with `env` added to the job's environment and `argv` after node. */
  start(rank: number, env: NodeJS.ProcessEnv, argv: string[]): void;
  /** Lets the coordinator accept ranks below `total`. */
  allow(total: number): void;
  /** True once the job is ending: no more spawns. */
  ending(): boolean;
}

/**
 * The launcher's side of comm.spawn() (docs/dynamic-processes.md): allocates world ranks after the
 * ones in use, starts the processes (same bundle as the job unless another program is named), and
 * tells each child, through DSMPI_SPAWN, its parent, the intercomm's context and its own world.
 */
export class DynamicRanks {
  private next: number;
  private readonly options: DynamicRanksOptions;
  private readonly bundles = new Map<string, Promise<{ file: string; remove: () => Promise<void> }>>();

  constructor(options: DynamicRanksOptions) {
    this.options = options;
    this.next = options.np;
  }

  async spawn(parent: number, request: { n: number; context: number; program?: string; args?: string[] }): Promise<number[]> {
    const o = this.options;
    if (o.ending()) throw new Error('the job is ending');
    if (request.n > MAX_PER_SPAWN) throw new Error(`${request.n} ranks asked for at once; at most ${MAX_PER_SPAWN}`);
    if (this.next + request.n > MAX_RANKS) throw new Error(`the job would pass ${MAX_RANKS} ranks`);
    if (!Number.isInteger(request.context) || request.context < 2) throw new Error(`bad intercomm context ${request.context}`);
    let entry = o.entry;
    if (request.program !== undefined && request.program !== o.program) entry = await this.entryOf(request.program);
    if (o.ending()) throw new Error('the job is ending');
    const args = Array.isArray(request.args) ? request.args.map(String) : o.args;
    const first = this.next;
    this.next += request.n;
    const group = Array.from({ length: request.n }, (_, i) => first + i);
    o.allow(this.next);
    const info = JSON.stringify({ parent, context: request.context, group });
    for (const rank of group) o.start(rank, { [Env.spawn]: info, [Env.size]: String(this.next) }, [...o.nodeArgs(entry), ...args]);
    return group;
  }

  /** Removes the bundles made for other programs. */
  async close(): Promise<void> {
    for (const b of this.bundles.values())
      await b.then(
        (x) => x.remove(),
        () => {},
      );
  }

  private async entryOf(program: string): Promise<string> {
    if (!this.options.bundle) return program;
    let bundle = this.bundles.get(program);
    if (!bundle) {
      bundle = bundleProgram(program, `${this.options.jobId}-${this.bundles.size + 1}`);
      this.bundles.set(program, bundle);
    }
    try {
      return (await bundle).file;
    } catch (err) {
      throw new Error(`cannot compile ${program}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
}
