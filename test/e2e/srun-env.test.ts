// Starting under Slurm's srun: rank and size from SLURM_PROCID/SLURM_NTASKS, the rendezvous from a
// `dsrun rendezvous` server named by DSMPI_RENDEZVOUS. Slurm is not installed here, so each rank is
// started with the environment srun gives a task of a one-node step.
import { spawn, type ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import t from 'tap';
import { root } from '../helpers/dsrun.ts';
import { collect, waitForLine } from '../helpers/netns.ts';

const SECRET = 'srun-test-secret';

/** The test runner's environment without anything that would make a rank think another launcher started it. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(DSMPI_|SLURM_|OMPI_|PMIX_|PMI_)/.test(k) && k !== 'NODE_OPTIONS') env[k] = v;
  }
  return env;
}

/** What srun sets for task `procid` of an `srun -n ntasks` step on one node (job 4242, step 0). */
function srunTaskEnv(procid: number, ntasks: number): NodeJS.ProcessEnv {
  const node = hostname();
  return {
    SLURM_PROCID: String(procid),
    SLURM_NTASKS: String(ntasks),
    SLURM_NPROCS: String(ntasks),
    SLURM_LOCALID: String(procid),
    SLURM_NODEID: '0',
    SLURM_GTIDS: Array.from({ length: ntasks }, (_, i) => i).join(','),
    SLURM_JOB_ID: '4242',
    SLURM_JOBID: '4242',
    SLURM_STEP_ID: '0',
    SLURM_STEPID: '0',
    SLURM_NNODES: '1',
    SLURM_JOB_NUM_NODES: '1',
    SLURM_STEP_NUM_NODES: '1',
    SLURM_STEP_NUM_TASKS: String(ntasks),
    SLURM_TASKS_PER_NODE: String(ntasks),
    SLURM_STEP_TASKS_PER_NODE: String(ntasks),
    SLURM_NODELIST: node,
    SLURM_JOB_NODELIST: node,
    SLURM_STEP_NODELIST: node,
    SLURMD_NODENAME: node,
    SLURM_CPUS_ON_NODE: String(ntasks),
    SLURM_SUBMIT_DIR: root,
    SLURM_SUBMIT_HOST: node,
    SLURM_CLUSTER_NAME: 'test',
    SLURM_LAUNCH_NODE_IPADDR: '127.0.0.1',
    SLURM_SRUN_COMM_HOST: '127.0.0.1',
    SLURM_DISTRIBUTION: 'block',
    SLURM_TASK_PID: String(process.pid),
  };
}

/** One task of the step, as srun would start it with `--export=ALL,...`. */
function startTask(procid: number, ntasks: number, extra: NodeJS.ProcessEnv, program = 'examples/hello.ts'): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', program], {
    cwd: root,
    env: { ...cleanEnv(), ...srunTaskEnv(procid, ntasks), ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
}

t.test('three tasks started as srun starts them run a collective through dsrun rendezvous', async (t) => {
  const rendezvous = spawn(process.execPath, [`${root}launcher/dsrun.mjs`, 'rendezvous', '-n', '3'], {
    cwd: root,
    env: { ...cleanEnv(), DSMPI_SECRET: SECRET },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const line = await waitForLine(rendezvous, /^DSMPI_RENDEZVOUS=ws:\/\/127\.0\.0\.1:\d+$/);
  const ended = collect(rendezvous, 60_000);
  const url = line.slice('DSMPI_RENDEZVOUS='.length);
  const tasks = [0, 1, 2].map((procid) => collect(startTask(procid, 3, { DSMPI_RENDEZVOUS: url, DSMPI_SECRET: SECRET }), 60_000));
  const results = await Promise.all(tasks);
  results.forEach((r, procid) => {
    t.equal(r.code, 0, `task ${procid} exits 0 ${r.stderr}`);
    t.match(r.stdout, `hello from rank ${procid} of 3`, `task ${procid} is rank ${procid} of 3`);
  });
  t.match(results[0].stdout, 'sum of ranks = 3', 'the allreduce spans the three tasks');
  const server = await ended;
  t.equal(server.code, 0, `the rendezvous ends with the job ${server.stderr}`);
});

t.test('a task without the right secret is refused, and the rendezvous keeps waiting', async (t) => {
  const rendezvous = spawn(process.execPath, [`${root}launcher/dsrun.mjs`, 'rendezvous', '-n', '2'], {
    cwd: root,
    env: { ...cleanEnv(), DSMPI_SECRET: SECRET },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const line = await waitForLine(rendezvous, /^DSMPI_RENDEZVOUS=/);
  const url = line.slice('DSMPI_RENDEZVOUS='.length);
  const intruder = await collect(startTask(0, 2, { DSMPI_RENDEZVOUS: url, DSMPI_SECRET: 'wrong' }), 60_000);
  t.not(intruder.code, 0, 'a task with another secret does not join');
  t.match(intruder.stderr, /coordinator did not prove it holds the job.s key \(not the same shared secret/);
  t.equal(rendezvous.exitCode, null, 'the rendezvous is still up');
  const ended = collect(rendezvous, 60_000);
  const results = await Promise.all(
    [0, 1].map((procid) => collect(startTask(procid, 2, { DSMPI_RENDEZVOUS: url, DSMPI_SECRET: SECRET }), 60_000)),
  );
  for (const r of results) t.equal(r.code, 0, r.stderr);
  t.match(results[0].stdout, 'sum of ranks = 1');
  t.equal((await ended).code, 0);
});

t.test('under srun without DSMPI_RENDEZVOUS, run() says what to do', async (t) => {
  const r = await collect(startTask(1, 3, {}), 60_000);
  t.equal(r.code, 1);
  t.match(r.stderr, /started by srun as rank 1 of 3, but DSMPI_RENDEZVOUS is not set; start `dsrun rendezvous -n 3`/);
  t.match(r.stderr, /srun --export=ALL,DSMPI_RENDEZVOUS=ws:\/\/host:port/, 'the hint is for srun');
});

t.test('a one-task srun step needs no rendezvous', async (t) => {
  const r = await collect(startTask(0, 1, {}), 60_000);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, 'hello from rank 0 of 1');
  t.match(r.stdout, 'sum of ranks = 0');
});
