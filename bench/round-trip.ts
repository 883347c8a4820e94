// Small-message round trip at n = 2, where ranks do not outnumber the cores: dsmpi as threads
// (polling on their shared-memory rings, and with --no-poll), as processes, and mpi4py under Open
// MPI's mpirun over TCP and over shared memory, measured in one run (repetition the outer loop);
// and the CPU a polling thread rank spends while it waits 10 s in a receive.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { median } from './stats.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const PYTHON = '/usr/bin/python3';
const COUNT = '20000';

/** The JSON object on the last stdout line of a command, or undefined if it failed (reported). */
function runJson(cmd: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Record<string, number> | undefined> {
  const env = { ...process.env, ...extraEnv };
  delete env.NODE_OPTIONS;
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: root, env, timeout: 180_000, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      try {
        if (err) throw err;
        resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, number>);
      } catch (e) {
        process.stderr.write(`bench round trip: ${cmd} ${args.join(' ')} failed: ${String(e)}\n${String(stderr).slice(-1000)}\n`);
        resolve(undefined);
      }
    });
  });
}

const dsrun = (...args: string[]): Promise<Record<string, number> | undefined> =>
  runJson(process.execPath, ['launcher/dsrun.mjs', '-n', '2', '--quiet', ...args]);
const mpi4py = (shm: boolean): Promise<Record<string, number> | undefined> =>
  runJson(
    'mpirun',
    [
      '--allow-run-as-root',
      ...(shm ? [] : ['--mca', 'btl', 'tcp,self', '--mca', 'pml', 'ob1']),
      '-n',
      '2',
      PYTHON,
      'bench/programs/pingpong.py',
      COUNT,
    ],
    { OMPI_MCA_btl_tcp_if_include: 'lo', OMPI_MCA_oob_tcp_if_include: 'lo' },
  );

const KINDS = ['threads, polling', 'threads, --no-poll', 'processes (ws, dsrun default)', 'mpi4py TCP', 'mpi4py shared memory'] as const;

export async function benchRoundTrip(reps: number): Promise<string> {
  const rtt = new Map<string, Array<number | undefined>>(KINDS.map((k) => [k, []]));
  const loads: number[] = [];
  for (let r = 0; r < reps; r++) {
    loads.push(loadavg()[0]);
    rtt.get(KINDS[0])!.push((await dsrun('--threads', '--poll', 'bench/programs/pingpong.ts', COUNT))?.rttUs);
    rtt.get(KINDS[1])!.push((await dsrun('--threads', '--no-poll', 'bench/programs/pingpong.ts', COUNT))?.rttUs);
    rtt.get(KINDS[2])!.push((await dsrun('bench/programs/pingpong.ts', COUNT))?.rttUs);
    rtt.get(KINDS[3])!.push((await mpi4py(false))?.rttUs);
    rtt.get(KINDS[4])!.push((await mpi4py(true))?.rttUs);
    process.stderr.write(`round-trip repetition ${r + 1}/${reps} done\n`);
  }
  const idle = await dsrun('--threads', '--poll', 'bench/programs/idle.ts', '10');
  // Ratios of the same repetition, then their median.
  const ratio = (kind: string, to: string): string => {
    const a = rtt.get(kind)!;
    const b = rtt.get(to)!;
    const v = a.flatMap((x, i) => (x !== undefined && b[i] !== undefined ? [x / b[i]!] : []));
    return v.length ? `${median(v).toFixed(2)}×` : 'n/a';
  };
  const med = (kind: string): string => {
    const v = rtt.get(kind)!.filter((x): x is number => x !== undefined);
    return v.length ? median(v).toFixed(1) : 'n/a';
  };
  const lines = [
    `## Small-message round trip, n = 2 (medians of ${reps} repetitions; load average ${median(loads).toFixed(1)})`,
    '',
    '| ranks | round trip (µs) | / mpi4py TCP | / mpi4py shared memory |',
    '|---|---|---|---|',
    ...KINDS.map((k) => `| ${k} | ${med(k)} | ${ratio(k, 'mpi4py TCP')} | ${ratio(k, 'mpi4py shared memory')} |`),
    '',
    'Targets, threads polling: <= 1.0× mpi4py TCP and <= 5× mpi4py shared memory.',
    idle
      ? `Idle: while a polling thread rank waits ${idle.seconds} s in a receive, the process of both ranks and dsrun used ${idle.processCpuS.toFixed(3)} s of CPU.`
      : 'Idle: not measured (the run failed).',
  ];
  return lines.join('\n');
}
