// Collective latencies of dsmpi (bench/programs/collectives.ts under dsrun, ranks as processes over
// ws and as threads with --threads) against mpi4py (bench/programs/collectives.py under Open MPI's
// mpirun, over TCP and over shared memory) at n = 2, 4, 8, 16, and for the barrier the floor of n
// Node.js processes over raw ws (bench/raw-ws-barrier.ts).
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median } from './stats.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const SIZES = [2, 4, 8, 16] as const;
const OPS = ['barrier', 'bcast', 'allreduce'] as const;
const LIMIT_MS = 90_000;
const PYTHON = '/usr/bin/python3';

export interface Row {
  op: string;
  n: number;
  /** Ranks as processes over ws. */
  dsmpiUs: number | undefined;
  /** dsrun --threads. */
  threadsUs?: number;
  /** mpi4py over TCP (the target). */
  mpi4pyUs: number | undefined;
  /** mpi4py over shared memory (Open MPI's default on one machine). */
  mpi4pyShmUs?: number;
  /** Raw ws star barrier of n processes: what Node.js and WebSockets alone cost. */
  floorUs?: number;
}

type Figures = Record<string, number>;

/** Runs a command with a hard time limit; the JSON object on its last stdout line, or undefined if it failed. */
export function runJson(cmd: string, args: string[], env: NodeJS.ProcessEnv, limitMs = LIMIT_MS): Promise<Figures | undefined> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    let timedOut = false;
    const limit = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL'); // the whole process group: launcher and ranks
      } catch {
        child.kill('SIGKILL');
      }
    }, limitMs);
    child.on('error', () => {
      clearTimeout(limit);
      resolve(undefined);
    });
    child.on('close', (code) => {
      clearTimeout(limit);
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        if (timedOut || code !== 0) throw new Error(timedOut ? `killed after ${limitMs} ms` : `exit code ${code}`);
        resolve(JSON.parse(line) as Figures);
      } catch (err) {
        process.stderr.write(`bench collectives: ${cmd} ${args.join(' ')} failed: ${String(err)}\n${stderr.slice(-2000)}\n`);
        resolve(undefined);
      }
    });
  });
}

function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.NODE_OPTIONS;
  return env;
}

function dsmpiRun(n: number, threads = false): Promise<Figures | undefined> {
  const mode = threads ? ['--threads'] : [];
  return runJson(
    process.execPath,
    ['launcher/dsrun.mjs', '-n', String(n), ...mode, '--quiet', 'bench/programs/collectives.ts'],
    childEnv(),
  );
}

function rawWsBarrierRun(n: number): Promise<Figures | undefined> {
  return runJson(process.execPath, ['--import', 'tsx', 'bench/raw-ws-barrier.ts', String(n)], childEnv());
}

/** `program` (default: the collectives) under Open MPI's mpirun with n ranks, over TCP or shared memory. */
export function mpi4pyRun(
  n: number,
  transport: 'tcp' | 'shm' = 'tcp',
  program = 'bench/programs/collectives.py',
  programArgs: string[] = [],
): Promise<Figures | undefined> {
  const args = [
    '--allow-run-as-root',
    '--oversubscribe',
    ...(transport === 'tcp' ? ['--mca', 'btl', 'tcp,self', '--mca', 'pml', 'ob1'] : []),
    '-n',
    String(n),
    PYTHON,
    program,
    ...programArgs,
  ];
  return runJson(
    'mpirun',
    args,
    childEnv({
      OMPI_MCA_btl_tcp_if_include: 'lo',
      OMPI_MCA_oob_tcp_if_include: 'lo',
    }),
  );
}

/** True if mpirun runs and /usr/bin/python3 imports mpi4py. */
export function mpi4pyAvailable(): boolean {
  const mpirun = spawnSync('mpirun', ['--version'], {
    stdio: 'ignore',
    timeout: 10_000,
  });
  if (mpirun.error || mpirun.status !== 0) return false;
  const py = spawnSync(PYTHON, ['-c', 'import mpi4py'], {
    stdio: 'ignore',
    timeout: 10_000,
  });
  return !py.error && py.status === 0;
}

/** Median over the successful repetitions of `key`; undefined if none succeeded. */
function medianOf(results: Array<Figures | undefined>, key: string): number | undefined {
  const v = results
    .filter((r): r is Figures => r !== undefined && typeof r[key] === 'number' && Number.isFinite(r[key]))
    .map((r) => r[key]);
  return v.length ? median(v) : undefined;
}

export async function benchCollectives(reps: number): Promise<Row[]> {
  const withMpi = mpi4pyAvailable();
  if (!withMpi) process.stderr.write('bench collectives: mpirun or mpi4py not available; dsmpi only\n');
  const rows: Row[] = [];
  const counterRows: Row[] = [];
  for (const n of SIZES) {
    const ds: Array<Figures | undefined> = [];
    const th: Array<Figures | undefined> = [];
    const mp: Array<Figures | undefined> = [];
    const shm: Array<Figures | undefined> = [];
    const raw: Array<Figures | undefined> = [];
    // Repetition outermost, so a noisy moment hits every column alike.
    for (let r = 0; r < reps; r++) {
      ds.push(await dsmpiRun(n));
      th.push(await dsmpiRun(n, true));
      if (withMpi) mp.push(await mpi4pyRun(n));
      if (withMpi) shm.push(await mpi4pyRun(n, 'shm'));
      raw.push(await rawWsBarrierRun(n));
    }
    for (const op of OPS) {
      const dsmpiUs = medianOf(ds, `${op}Us`);
      const mpi4pyUs = withMpi ? medianOf(mp, `${op}Us`) : undefined;
      const floorUs = op === 'barrier' ? medianOf(raw, 'barrierUs') : undefined;
      rows.push({
        op,
        n,
        dsmpiUs,
        threadsUs: medianOf(th, `${op}Us`),
        mpi4pyUs,
        mpi4pyShmUs: withMpi ? medianOf(shm, `${op}Us`) : undefined,
        floorUs,
      });
    }
    counterRows.push({
      op: 'counter.fetchAndOp',
      n,
      dsmpiUs: medianOf(ds, 'counterFetchAndOpUs'),
      threadsUs: medianOf(th, 'counterFetchAndOpUs'),
      mpi4pyUs: undefined,
    });
  }
  return [...rows, ...counterRows];
}

const fmt = (x: number | undefined, digits = 1): string => (x === undefined ? '—' : x.toFixed(digits));
const ratioOf = (a: number | undefined, b: number | undefined): string => fmt(a !== undefined && b !== undefined ? a / b : undefined, 2);

export function formatCollectives(rows: Row[]): string {
  const lines = [
    '| op | n | dsmpi ws (µs) | dsmpi threads (µs) | mpi4py TCP (µs) | mpi4py shm (µs) | ws / mpi4py TCP | threads / mpi4py TCP | threads / mpi4py shm | raw ws floor (µs) | ws / floor |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.op} | ${r.n} | ${fmt(r.dsmpiUs)} | ${fmt(r.threadsUs)} | ${fmt(r.mpi4pyUs)} | ${fmt(r.mpi4pyShmUs)} | ${ratioOf(r.dsmpiUs, r.mpi4pyUs)} | ${ratioOf(r.threadsUs, r.mpi4pyUs)} | ${ratioOf(r.threadsUs, r.mpi4pyShmUs)} | ${fmt(r.floorUs)} | ${ratioOf(r.dsmpiUs, r.floorUs)} |`,
    ),
    '',
    'dsmpi ws: ranks are processes linked by WebSockets (dsrun default). dsmpi threads: dsrun --threads, ranks are',
    'threads of one process linked by MessagePorts. mpi4py TCP: Open MPI forced onto its TCP transport; shm: its default.',
    'bcast and allreduce: what the call adds to a barrier-separated loop (bcast from a turning root).',
    'Raw ws floor: n Node.js processes over plain ws, a star barrier, none of dsmpi.',
    '',
  ];
  const at16 = OPS.map((op) => rows.find((r) => r.op === op && r.n === 16));
  if (at16.every((r) => r?.mpi4pyUs !== undefined)) {
    lines.push('Target at n = 16: barrier, bcast and allreduce no slower than mpi4py over TCP:');
    for (const [impl, name] of [
      ['threadsUs', 'dsmpi threads'],
      ['dsmpiUs', 'dsmpi ws'],
    ] as const) {
      const ratios = at16.map((r) => (r![impl] ?? NaN) / r!.mpi4pyUs!);
      const met = ratios.every((x) => x <= 1); // NaN (no figure) is not met
      lines.push(`- ${name}: ${OPS.map((op, i) => `${op} ${ratios[i].toFixed(2)}×`).join(', ')} — ${met ? 'met' : 'not met'}`);
    }
    lines.push('');
  }
  lines.push('Growth from n=2 to n=16 (t16/t2; log p would give 4, p would give 8):');
  const ops = [...new Set(rows.map((r) => r.op))];
  for (const op of ops) {
    for (const impl of ['dsmpiUs', 'threadsUs', 'mpi4pyUs', 'mpi4pyShmUs'] as const) {
      const t2 = rows.find((r) => r.op === op && r.n === 2)?.[impl];
      const t16 = rows.find((r) => r.op === op && r.n === 16)?.[impl];
      if (t2 === undefined || t16 === undefined) continue;
      const g = t16 / t2;
      // Geometric midpoint of 4 and 8 as the boundary; below 4 is sub-logarithmic.
      const verdict = g <= 4 * Math.SQRT2 ? (g < 2 ? 'flatter than log p' : 'like log p') : g < 12 ? 'like p' : 'worse than p';
      const name = { dsmpiUs: 'dsmpi ws', threadsUs: 'dsmpi threads', mpi4pyUs: 'mpi4py TCP', mpi4pyShmUs: 'mpi4py shm' }[impl];
      lines.push(`- ${op} (${name}): ×${g.toFixed(2)} — ${verdict}`);
    }
  }
  lines.push("(16 ranks share the machine's cores, so oversubscription inflates the growth at large n.)");
  return lines.join('\n');
}
