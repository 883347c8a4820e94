// The ported examples under dsrun: exit status and printed outcome.
import t from 'tap';
import { dsrun } from '../helpers/dsrun.ts';

/** Each rank's lines (without the prefix). */
function byRank(stdout: string, n: number): string[][] {
  const out: string[][] = Array.from({ length: n }, () => []);
  for (const line of stdout.split('\n')) {
    const m = /^\[rank (\d+)\] (.*)$/.exec(line);
    if (m) out[Number(m[1])].push(m[2]);
  }
  return out;
}

const run = (n: number, file: string, ...args: string[]) => dsrun(['-n', String(n), '--timeout', '30', file, ...args], { limitMs: 40000 });

t.test('lamport-clock and vector-clock print the correct timestamps of the book scenario', async (t) => {
  const [l, v, one] = await Promise.all([
    run(3, 'examples/lamport-clock.ts'),
    run(3, 'examples/vector-clock.ts'),
    run(1, 'examples/vector-clock.ts'),
  ]);
  t.equal(l.code, 0, l.stderr);
  t.match(l.stdout, '[rank 0] timestamps P1: A=1 B=2 Send(m)=3 C=4 | P2: Recv(m)=4 B=5 Send(n)=6 C=7 | P3: A=1 Recv(n)=7 B=8 C=9');
  t.equal(v.code, 0, v.stderr);
  for (const s of [
    'P2 Recv(m) VC=[3, 1, 0]',
    'P3 Recv(n) VC=[3, 3, 2]',
    'P3 C VC=[3, 3, 4]',
    'P1.C [4, 0, 0] is concurrent with P2.Recv(m) [3, 1, 0]',
  ])
    t.match(v.stdout, s);
  t.equal(one.code, 0, one.stderr);
  t.match(one.stdout, 'P1 Recv(m) VC=[5]');
});

t.test('gcounter: every rank ends with n(n+1)/2', async (t) => {
  const runs = await Promise.all([1, 4].map((n) => run(n, 'examples/gcounter.ts')));
  for (const [i, n] of [1, 4].entries()) {
    const r = runs[i];
    t.equal(r.code, 0, r.stderr);
    for (const lines of byRank(r.stdout, n)) t.match(lines.at(-1), new RegExp(`= ${(n * (n + 1)) / 2}$`));
  }
});

t.test('lww-map: every rank ends with the same map, the book outcome for a and c', async (t) => {
  const n = 4;
  const r = await run(n, 'examples/lww-map.ts');
  t.equal(r.code, 0, r.stderr);
  const last = byRank(r.stdout, n).map((l) => l.at(-1)!.replace(/^rank \d+ final map /, ''));
  t.equal(new Set(last).size, 1, 'all ranks agree');
  const map = JSON.parse(last[0]) as Record<string, unknown>;
  t.same(Object.keys(map), ['KEN', 'a', 'c']);
  t.equal(map.a, 'v2@r1');
  t.equal(map.c, 'v2@r3');
});

t.test('two-phase-commit scenarios', async (t) => {
  const cases: Array<[string, RegExp[]]> = [
    ['all-yes', [/: COMMITTED$/, /: COMMITTED$/, /: COMMITTED$/, /: COMMITTED$/]],
    ['one-no', [/: ABORTED$/, /: ABORTED$/, /: ABORTED$/, /: ABORTED$/]],
    ['coordinator-crash-before', [/CRASHED/, /BLOCKED/, /BLOCKED/, /BLOCKED/]],
  ];
  const runs = await Promise.all(cases.map(([scenario]) => run(4, 'examples/two-phase-commit.ts', scenario)));
  for (const [i, [scenario, want]] of cases.entries()) {
    const r = runs[i];
    t.equal(r.code, 0, r.stderr);
    byRank(r.stdout, 4).forEach((lines, rank) => t.match(lines.at(-1), want[rank], `${scenario}: rank ${rank}`));
  }
});

t.test('three-phase-commit: the coordinator stops after PreCommit and nobody blocks', async (t) => {
  const cases = [
    ['all-yes', /: COMMITTED$/],
    ['coordinator-crash-after-precommit', /: COMMITTED$/],
  ] as const; // the silent scenario is covered in the simulator (test/algorithms/commit.test.ts)
  const runs = await Promise.all(cases.map(([scenario]) => run(4, 'examples/three-phase-commit.ts', scenario)));
  for (const [i, [scenario, want]] of cases.entries()) {
    const r = runs[i];
    t.equal(r.code, 0, r.stderr);
    byRank(r.stdout, 4).forEach((lines, rank) =>
      t.match(lines.at(-1), rank === 0 && scenario.startsWith('coord') ? /CRASHED/ : want, `${scenario}: rank ${rank}`),
    );
  }
});

t.test('stabilization converges and pulls the perturbed rank back', async (t) => {
  const n = 5;
  const r = await run(n, 'examples/stabilization.ts');
  t.equal(r.code, 0, r.stderr);
  const finals = byRank(r.stdout, n).map((l) => Number(/Final value = ([\d.]+) \(mean ([\d.]+)\)/.exec(l.at(-1)!)![1]));
  const mean = Number(/mean ([\d.]+)/.exec(byRank(r.stdout, n)[0].at(-1)!)![1]);
  for (const f of finals) t.ok(Math.abs(f - mean) <= 0.51, `${f} near ${mean}`);
  t.match(r.stdout, `[rank ${n - 1}] Process ${n - 1}: perturbed to`);
});
