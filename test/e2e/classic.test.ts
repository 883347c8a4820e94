// Every classic-algorithm example under dsrun: exit code 0 and each of its CHECK lines OK.
import t from 'tap';
import { dsrun } from '../helpers/dsrun.ts';

const runs: Array<[example: string, n: number, checks: number, extra?: RegExp]> = [
  ['central-mutex', 4, 2],
  ['token-ring', 4, 1],
  ['ricart-agrawala', 4, 2],
  ['maekawa', 9, 1, /V0=\{0,1,2,3,6\} .* V4=\{1,3,4,5,7\} .* V8=\{2,5,6,7,8\}/],
  ['ring-election', 5, 2, /messages = 14 /],
  ['bully', 4, 1, /\[rank 1\] leader = 1/],
  ['chandy-lamport', 5, 3, /conservation 500: OK/],
  ['cristian', 4, 1, /rtt 8, offset \+46, new time 156, error ±4/],
  ['berkeley', 4, 1, /average \+5 min, adjustments 5 15 -20 -115, 5:00 left out/],
  ['total-order-multicast', 4, 1],
  ['causal-broadcast', 3, 1],
  ['gossip', 8, 1],
];

// Two at a time: the machine has two cores.
t.jobs = 2;
for (const [example, n, checks, extra] of runs) {
  t.test(`dsrun -n ${n} examples/${example}.ts`, async (t) => {
    const r = await dsrun(['-n', String(n), '--timeout', '30', `examples/${example}.ts`], { limitMs: 40_000 });
    t.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n').filter((l) => l.includes('CHECK '));
    t.equal(lines.length, checks, `${checks} CHECK lines:\n${r.stdout}`);
    for (const l of lines) t.match(l, /: OK$/, l);
    if (extra) t.match(r.stdout, extra);
  });
}
