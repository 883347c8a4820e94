// npm run bench: dsmpi against the raw transport it is built on (and against mpirun where present),
// measured side by side in one run. Prints medians over repetitions and their ratios.
//   npm run bench -- --help
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { median } from './stats.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const GROUPS = ['p2p', 'idle', 'rtt', 'startup', 'collectives', 'paxos', 'flow', 'hosts', 'scale'];
const positive = (text: string): number => {
  const n = Number(text);
  if (!(Number.isInteger(n) && n > 0)) throw new InvalidArgumentError('must be an integer > 0');
  return n;
};
const groups = (text: string): string[] => {
  const names = text.split(',');
  const bad = names.filter((g) => !GROUPS.includes(g));
  if (bad.length) throw new InvalidArgumentError(`unknown group ${bad.join(', ')} (groups: ${GROUPS.join(', ')})`);
  return names;
};
const values = new Command('npm run bench --')
  .description('dsmpi against its baselines (raw ws, mpirun + mpi4py), measured side by side; prints medians and ratios')
  .option('--reps <n>', 'repetitions of each measure', positive, 5)
  .option('--only <groups>', `comma-separated groups, among ${GROUPS.join(', ')} (default: all but scale)`, groups)
  .option('--flood <messages>', 'messages of the flow-control flood', positive, 3_000_000)
  .option('--mib <n>', 'MiB of the large-message runs', positive, 256)
  .option('--max-n <n>', 'largest n of --only scale', positive, 256)
  .parse()
  .opts<{ reps: number; only?: string[]; flood: number; mib: number; maxN: number }>();
const reps = values.reps;
const only = values.only;
const want = (group: string): boolean => !only || only.includes(group);

/** Runs a command to its end (killing it after `limitMs`); returns stdout, or throws. */
function runCommand(cmd: string, args: string[], limitMs = 120_000): Promise<{ stdout: string; ms: number }> {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const start = performance.now();
  const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, ms: performance.now() - start });
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}\n${stderr}`));
    });
  });
}

const json = async (cmd: string, args: string[], limitMs?: number): Promise<Record<string, number>> =>
  JSON.parse((await runCommand(cmd, args, limitMs)).stdout.trim().split('\n').at(-1)!) as Record<string, number>;
/** dsrun -n N --quiet [flags] program [args]. */
const dsrunWith = (flags: string[], n: number, program: string, ...args: string[]): [string, string[]] => [
  process.execPath,
  ['launcher/dsrun.mjs', '-n', String(n), '--quiet', ...flags, program, ...args],
];
const dsrun = (n: number, program: string, ...args: string[]): [string, string[]] => dsrunWith([], n, program, ...args);
const tsx = (file: string, ...args: string[]): [string, string[]] => [process.execPath, ['--import', 'tsx', file, ...args]];

interface Row {
  what: string;
  dsmpi: number[];
  baseline: number[];
  unit: string;
  /** How the target reads: ratio dsmpi/baseline must be <= or >= target (none: for comparison only). */
  target?: { cmp: '<=' | '>='; value: number };
  baselineName: string;
}

const rows: Row[] = [];
const fmt = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

if (want('p2p')) {
  const { mpi4pyAvailable, mpi4pyRun } = await import('./collectives.ts');
  const withMpi = mpi4pyAvailable();
  // The default: polling on, as dsrun chooses for 2 ranks on 2 cores or more (docs/dsrun.md#polling).
  const dsmpiRtt: number[] = [];
  const rtt = (baselineName: string, target?: number, dsmpi = dsmpiRtt): Row => ({
    what: `small-message round trip${dsmpi === dsmpiRtt ? '' : ', --no-poll'}`,
    unit: 'µs',
    dsmpi,
    baseline: [],
    target: target === undefined ? undefined : { cmp: '<=', value: target },
    baselineName,
  });
  const raw = rtt('raw ws + msgpackr', 1.1);
  const sleeping = rtt('raw ws + msgpackr', undefined, []);
  sleeping.baseline = raw.baseline;
  const tcp = rtt('mpi4py over TCP', 1.5);
  const shm = rtt('mpi4py over shared memory');
  const stream: Row = {
    what: 'one-way streaming, small messages',
    unit: 'msgs/s',
    dsmpi: [],
    baseline: [],
    target: { cmp: '>=', value: 3 },
    baselineName: 'raw ws, 1 msg/frame',
  };
  for (let r = 0; r < reps; r++) {
    // Repetition is the outer loop, so a noisy moment hits both sides alike.
    raw.baseline.push((await json(...tsx('bench/raw-ws.ts', 'pingpong', '20000'))).rttUs);
    dsmpiRtt.push((await json(...dsrun(2, 'bench/programs/pingpong.ts', '20000'))).rttUs);
    sleeping.dsmpi.push((await json(...dsrunWith(['--no-poll'], 2, 'bench/programs/pingpong.ts', '20000'))).rttUs);
    if (withMpi) {
      tcp.baseline.push((await mpi4pyRun(2, 'tcp', 'bench/programs/pingpong.py', ['20000']))?.rttUs ?? NaN);
      shm.baseline.push((await mpi4pyRun(2, 'shm', 'bench/programs/pingpong.py', ['20000']))?.rttUs ?? NaN);
    }
    stream.baseline.push((await json(...tsx('bench/raw-ws.ts', 'stream', '500000'))).msgsPerSec);
    stream.dsmpi.push((await json(...dsrun(2, 'bench/programs/stream.ts', '1000000'))).msgsPerSec);
    process.stderr.write(`p2p repetition ${r + 1}/${reps} done\n`);
  }
  rows.push(raw, sleeping, ...(withMpi ? [tcp, shm] : []), stream);
}

if (want('startup')) {
  const mpirun = spawnSync('which', ['mpirun']).status === 0 && spawnSync('/usr/bin/python3', ['-c', 'import mpi4py']).status === 0;
  const baselineName = mpirun ? 'mpirun -n 16 python3 hello (mpi4py)' : 'mpirun not installed (apt-get install openmpi-bin python3-mpi4py)';
  const start = (mode: string, target: number): Row => ({
    what: `start-up + teardown, 16 ranks of hello${mode}`,
    unit: 's',
    dsmpi: [],
    baseline: [],
    target: { cmp: '<=', value: target },
    baselineName,
  });
  const processes = start('', 1);
  const threads = start(', --threads', 0.7);
  // Node.js 20 reads NODE_EXTRA_CA_CERTS's certificates at every process start, before any code runs
  // (about 40 ms of CPU per process here); the ranks of a program that opens no TLS connection of its
  // own can skip it (docs/dsrun.md). Measured beside the main row, not in place of it.
  const extraCaCerts = process.env.NODE_EXTRA_CA_CERTS ? start(', -x NODE_EXTRA_CA_CERTS= (set here)', 1) : undefined;
  // One run first: compiles the program into the bundle cache, as a user's first run does.
  await runCommand(...dsrun(16, 'examples/hello.ts'));
  for (let r = 0; r < reps; r++) {
    processes.dsmpi.push((await runCommand(...dsrun(16, 'examples/hello.ts'))).ms / 1000);
    threads.dsmpi.push((await runCommand(...dsrunWith(['--threads'], 16, 'examples/hello.ts'))).ms / 1000);
    extraCaCerts?.dsmpi.push((await runCommand(...dsrunWith(['-x', 'NODE_EXTRA_CA_CERTS='], 16, 'examples/hello.ts'))).ms / 1000);
    if (mpirun) {
      const args = ['--allow-run-as-root', '--oversubscribe', '-n', '16', '/usr/bin/python3', 'bench/programs/hello.py'];
      const ms = (await runCommand('mpirun', args)).ms / 1000;
      for (const row of [processes, threads, extraCaCerts]) row?.baseline.push(ms);
    }
  }
  rows.push(processes, threads, ...(extraCaCerts ? [extraCaCerts] : []));
}

if (rows.length > 0) {
  console.log(`\n## dsmpi benchmark (${reps} repetitions; medians, ratio = dsmpi / baseline)\n`);
  console.log('| measure | dsmpi | baseline | ratio | target | met |');
  console.log('|---|---|---|---|---|---|');
}
for (const row of rows) {
  const d = median(row.dsmpi);
  // A baseline run that failed (NaN) leaves its repetition out of the baseline and the ratio.
  const baseline = row.baseline.filter(Number.isFinite);
  const b = baseline.length ? median(baseline) : NaN;
  const ratios = row.dsmpi.map((x, i) => x / row.baseline[i]).filter(Number.isFinite);
  const ratio = ratios.length ? median(ratios) : NaN;
  const target = row.target;
  const met = Number.isNaN(ratio) || !target ? 'n/a' : (target.cmp === '<=' ? ratio <= target.value : ratio >= target.value) ? 'yes' : 'NO';
  console.log(
    `| ${row.what} (${row.unit}) | ${fmt(d)} | ${Number.isNaN(b) ? 'n/a' : fmt(b)} (${row.baselineName}) | ${Number.isNaN(ratio) ? 'n/a' : `${ratio.toFixed(2)}×`} | ${target ? `${target.cmp} ${target.value}×` : '—'} | ${met} |`,
  );
}
const streamRow = rows.find((r) => r.what.startsWith('one-way'));
if (streamRow) console.log(`\ndsmpi streaming median: ${fmt(median(streamRow.dsmpi))} msgs/s (target >= 1,000,000)`);

if (want('rtt')) {
  const { benchRoundTrip } = await import('./round-trip.ts');
  console.log('\n' + (await benchRoundTrip(Math.min(reps, 3))));
}

if (want('idle')) {
  // Polling is bounded: a rank blocked in a receive for 10 s polls for a moment, then sleeps.
  console.log('\n## CPU of an idle rank: blocked in a receive for 10 s, 2 ranks\n');
  console.log('| ranks | CPU used while blocked (share of one core) |');
  console.log('|---|---|');
  for (const flags of [[], ['--no-poll']]) {
    const r = await json(...dsrunWith(flags, 2, 'bench/programs/idle.ts', '10'));
    console.log(`| ${flags.length ? 'sleep (--no-poll)' : 'poll (default, n ≤ cores)'} | ${(r.waiterCpuShare * 100).toFixed(2)} % |`);
  }
}

if (want('collectives')) {
  const { benchCollectives, formatCollectives } = await import('./collectives.ts');
  console.log('\n' + formatCollectives(await benchCollectives(Math.min(reps, 3))));
}

if (only?.includes('scale')) {
  // Not in the default run: hundreds of ranks take minutes on a small machine.
  const { benchScale } = await import('./scale.ts');
  console.log(
    `\n## Growth with n (one run each; ${new Date().toISOString()}, load ${(await import('node:os')).loadavg()[0].toFixed(1)})\n`,
  );
  console.log(await benchScale(values.maxN));
}

if (want('hosts')) {
  const { benchSecureHosts } = await import('./secure-hosts.ts');
  console.log('\n' + (await benchSecureHosts(Math.min(reps, 3))));
}

if (want('paxos')) {
  // Sequence Paxos, 5 ranks, stable leader: one value in flight per client, then 8 (pipelined).
  console.log('\n## Sequence Paxos under dsrun, 5 ranks (medians over repetitions)\n');
  console.log(
    '| values in flight per client | decisions/s | median latency (ms) | p99 (ms) | protocol messages per decision | ideal 2(n−1) + (n−1) |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const window of [1, 8]) {
    const runs: Array<Record<string, number>> = [];
    for (let r = 0; r < Math.min(reps, 3); r++) {
      runs.push(await json(...dsrun(5, 'bench/programs/sequence-paxos.ts', window === 1 ? '200' : '400', String(window))));
    }
    const m = (k: string): number => median(runs.map((x) => x[k]));
    console.log(
      `| ${window} | ${fmt(m('decisionsPerSec'))} | ${fmt(m('medianLatencyMs'))} | ${fmt(m('p99LatencyMs'))} | ${m('protocolMessagesPerDecision').toFixed(2)} | ${runs[0].idealPerDecision} |`,
    );
  }
}

if (want('flow')) {
  // Flow control: a flood of small messages, and large messages (docs/flow-control.md).
  const floodCount = String(values.flood);
  const bound = 64 * 2 ** 20;
  const flood = (mode: string, recvBuffer: number): Promise<Record<string, number>> =>
    json(
      process.execPath,
      ['launcher/dsrun.mjs', '-n', '2', '--quiet', '--recv-buffer', String(recvBuffer), 'bench/programs/flood.ts', floodCount, mode],
      600_000,
    );
  const slow: Array<Record<string, number>> = [];
  const keep: Array<Record<string, number>> = [];
  const unbounded: Array<Record<string, number>> = [];
  for (let r = 0; r < Math.min(reps, 3); r++) {
    slow.push(await flood('slow', bound));
    keep.push(await flood('keep', bound));
    // The same receiver with a bound it never reaches: what holding the sender back costs.
    unbounded.push(await flood('keep', 2 ** 40));
    process.stderr.write(`flood repetition ${r + 1} done\n`);
  }
  const m = (runs: Array<Record<string, number>>, k: string): number => median(runs.map((x) => x[k]));
  const keepRatio = median(keep.map((x, i) => x.msgsPerSec / unbounded[i].msgsPerSec));
  console.log(`\n## Flow control: one sender floods one receiver with ${floodCount} small messages (medians)\n`);
  console.log('| receiver | bound | messages/s | receiver peak RSS (MiB) | held at the bound (MiB) |');
  console.log('|---|---|---|---|---|');
  console.log(
    `| slow (starts after 2 s) | 64 MiB | ${fmt(m(slow, 'msgsPerSec'))} | ${fmt(m(slow, 'peakRssMiB'))} | ${fmt(m(slow, 'heldMiB'))} |`,
  );
  console.log(`| keeps up | 64 MiB | ${fmt(m(keep, 'msgsPerSec'))} | ${fmt(m(keep, 'peakRssMiB'))} | |`);
  console.log(`| keeps up | never reached | ${fmt(m(unbounded, 'msgsPerSec'))} | ${fmt(m(unbounded, 'peakRssMiB'))} | |`);
  console.log(`\nkeeping-up throughput with the bound / without: ${keepRatio.toFixed(2)}× (target: within 10 %)`);

  const mib = String(values.mib);
  const rounds = '3';
  const large: Array<Record<string, number>> = [];
  const threads: Array<Record<string, number>> = [];
  const raw: number[] = [];
  const mpi: number[] = [];
  const mpicc = spawnSync('mpicc', ['-O2', '-o', '/tmp/dsmpi-bench-exchange', 'bench/programs/exchange.c'], { cwd: root });
  const haveMpi = mpicc.status === 0;
  if (!haveMpi) process.stderr.write(`Open MPI skipped: mpicc cannot build bench/programs/exchange.c\n`);
  const exchange = (...mode: string[]): Promise<Record<string, number>> =>
    json(process.execPath, [
      'launcher/dsrun.mjs',
      '-n',
      '2',
      '--quiet',
      ...mode,
      '--max-payload',
      String(Number(mib) * 2 ** 20),
      'bench/programs/large-exchange.ts',
      mib,
      rounds,
    ]);
  for (let r = 0; r < Math.min(reps, 3); r++) {
    large.push(await exchange());
    threads.push(await exchange('--threads'));
    raw.push((await json(...tsx('bench/raw-ws.ts', 'exchange', rounds, mib))).gbPerSec);
    if (haveMpi) {
      const args = ['--allow-run-as-root', '-n', '2', '--mca', 'btl', 'tcp,self', '/tmp/dsmpi-bench-exchange', mib, rounds];
      mpi.push((await json('mpirun', args)).gbPerSec);
    }
    process.stderr.write(`large-message repetition ${r + 1} done\n`);
  }
  const gb = m(large, 'gbPerSec');
  // Ratios of the same repetition, then their median: a noisy moment hits both sides alike.
  const ratio = (others: number[]): string => median(large.map((x, i) => x.gbPerSec / others[i])).toFixed(2);
  const rss = Math.max(m(large, 'rssRatio0'), m(large, 'rssRatio1'));
  console.log(`\n## Large messages: two ranks exchange ${mib} MiB Uint8Arrays (recv into a buffer; medians)\n`);
  console.log('| | GB/s per direction | ratio dsmpi / it | peak RSS / message size |');
  console.log('|---|---|---|---|');
  console.log(`| dsmpi (ws, bufferutil) | ${gb.toFixed(2)} | | ${rss.toFixed(2)} per rank (target <= 2.5) |`);
  console.log(
    `| dsmpi --threads | ${m(threads, 'gbPerSec').toFixed(2)} | | ${m(threads, 'rssRatio0').toFixed(2)} for the process of both ranks (target <= 5) |`,
  );
  console.log(`| raw ws + bufferutil, one ${mib} MiB frame | ${median(raw).toFixed(2)} | ${ratio(raw)}× | |`);
  console.log(
    haveMpi
      ? `| Open MPI over TCP (MPI_Sendrecv, --mca btl tcp,self) | ${median(mpi).toFixed(2)} | ${ratio(mpi)}× | |`
      : `| Open MPI over TCP | not measured: mpicc cannot build bench/programs/exchange.c (${mpicc.error ? 'no mpicc' : 'no mpi.h: apt-get install libopenmpi-dev'}) | | |`,
  );
}
