// Starting under OpenMPI's mpirun: rank and size from OMPI_COMM_WORLD_*, the rendezvous from a
// `dsrun rendezvous` server named by DSMPI_RENDEZVOUS. Skipped where mpirun is not installed.
import { execFileSync, spawn } from 'node:child_process';
import t from 'tap';
import { root } from '../helpers/dsrun.ts';
import { collect, waitForLine } from '../helpers/netns.ts';

let mpirun = '';
try {
  mpirun = execFileSync('sh', ['-c', 'command -v mpirun'], { encoding: 'utf8' }).trim();
} catch {
  // not installed
}

if (!mpirun) {
  t.plan(0, 'skipped: mpirun (openmpi-bin) is not installed');
} else {
  t.test('mpirun -n 4 runs a dsmpi program through dsrun rendezvous', async (t) => {
    const env: NodeJS.ProcessEnv = { ...process.env, DSMPI_SECRET: 'mpirun-test-secret' };
    delete env.NODE_OPTIONS;
    const rendezvous = spawn(process.execPath, [`${root}launcher/dsrun.mjs`, 'rendezvous', '-n', '4'], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const line = await waitForLine(rendezvous, /^DSMPI_RENDEZVOUS=/);
    const ended = collect(rendezvous, 60_000);
    const url = line.slice('DSMPI_RENDEZVOUS='.length);
    const args = [
      '--allow-run-as-root',
      '--oversubscribe',
      '-n',
      '4',
      '-x',
      `DSMPI_RENDEZVOUS=${url}`,
      '-x',
      'DSMPI_SECRET',
      process.execPath,
      '--import',
      'tsx',
      'examples/hello.ts',
    ];
    const job = spawn(mpirun, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const r = await collect(job, 60_000);
    t.equal(r.code, 0, r.stderr);
    for (let i = 0; i < 4; i++) t.match(r.stdout, `hello from rank ${i} of 4`);
    t.match(r.stdout, 'sum of ranks = 6');
    t.equal((await ended).code, 0, 'the rendezvous ends with the job');
  });

  t.test('under mpirun without DSMPI_RENDEZVOUS, run() says what to do', async (t) => {
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    delete env.DSMPI_RENDEZVOUS;
    const job = spawn(
      mpirun,
      ['--allow-run-as-root', '--oversubscribe', '-n', '2', process.execPath, '--import', 'tsx', 'examples/hello.ts'],
      { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    const r = await collect(job, 60_000);
    t.not(r.code, 0);
    t.match(r.stderr, /DSMPI_RENDEZVOUS is not set; start `dsrun rendezvous -n 2`/);
  });
}
