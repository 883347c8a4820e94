// The exercise examples under dsrun on real processes: primary-backup (with the primary killed),
// federated SGD, map-reduce word count, telemetry.
import t from 'tap';
import { dsrun } from '../helpers/dsrun.ts';

const lines = (stdout: string, rank: number): string[] =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith(`[rank ${rank}] `))
    .map((l) => l.slice(`[rank ${rank}] `.length));

t.test('primary-backup at n = 6 with the primary killed: rank 1 takes over, the history is linearizable', async (t) => {
  const killed = await dsrun(['-n', '6', '--timeout', '60', '--kill', '0@0.3s', 'examples/primary-backup.ts', '150'], { limitMs: 90_000 });
  t.equal(killed.code, 0, killed.stderr);
  t.match(killed.stderr, /rank 0 was lost/);
  t.match(killed.stdout, /\[rank 5\] CHECK history of 450 operations is linearizable: OK/);
  t.match(killed.stdout, /\[rank 1\] replica 1: primary, \d+ writes applied, 1 takeover\(s\)/);
  const after = [1, 2].map((r) => lines(killed.stdout, r).at(-1));
  t.equal(new Set(after).size, 1, `one store: ${after.join(' | ')}`);
});

t.test('federated-sgd at n = 5: learns the truth; a straggler is left out of odd rounds', async (t) => {
  const r = await dsrun(['-n', '5', '--timeout', '60', 'examples/federated-sgd.ts', '6', 'scatter', 'p2p', '2'], { limitMs: 90_000 });
  t.equal(r.code, 0, r.stderr);
  const rounds = lines(r.stdout, 0)
    .map((l) => /^round (\d+): .* clients \d+\/4 \[([\d,]*)\]/.exec(l))
    .filter((m) => m !== null)
    .map((m) => ({
      round: Number(m[1]),
      clients: m[2].split(',').map(Number),
    }));
  t.equal(rounds.length, 6);
  t.ok(
    rounds.filter((x) => x.round % 2 === 1).every((x) => !x.clients.includes(2)),
    'rank 2 answers odd rounds too late: left out',
  );
  t.ok(
    rounds.some((x) => x.clients.includes(2)),
    'and is in some even round',
  );
  t.match(r.stdout, /\[rank 0\] learned w=\[.*\] b=.*; truth w=\[2, -3\] b=0.5/);
  t.match(r.stdout, /\[rank 0\] CHECK learned weights within 0.1 of the truth: OK/);
});

for (const [mode, n, group] of [
  ['scatter', 6, 2],
  ['spread', 5, 3],
] as const) {
  t.test(`mapreduce ${mode} at n = ${n}, groups of ${group}: equals the sequential count`, async (t) => {
    const r = await dsrun(['-n', String(n), '--timeout', '60', 'examples/mapreduce.ts', mode, String(group)], { limitMs: 90_000 });
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, new RegExp(`\\[rank 0\\] ${mode}: 155 words, 91 distinct; top 5: the=18 of=7 a=6 and=4 consensus=3`));
    t.match(r.stdout, /\[rank 0\] CHECK equals the sequential count: OK/);
  });
}

t.test('telemetry at n = 5: the metrics table of single Paxos', async (t) => {
  const r = await dsrun(['-n', '5', '--timeout', '60', 'examples/telemetry.ts'], { limitMs: 90_000 });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /\[rank 4\] decided 40; \d+ telemetry events/);
  t.match(r.stdout, /\[rank 4\] metric +value/);
  t.match(r.stdout, /\[rank 4\] messages=\d+ bytes=\d+ rounds=\d+ retries=\d+ nacks=\d+ steps=\d+ decide_ms=[\d.]+/);
});
