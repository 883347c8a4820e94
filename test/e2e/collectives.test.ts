import t from 'tap';
import { dsrun } from '../helpers/dsrun.ts';

/** What rank `r` of `n` must print, except the counter ticket (checked as a permutation). */
function expected(r: number, n: number): Record<string, unknown> {
  const ranks = Array.from({ length: n }, (_, i) => i);
  const mine = ranks.filter((i) => i % 2 === r % 2);
  return {
    rank: r,
    size: n,
    barrier: 'ok',
    bcast: 42,
    scatter: r * 10,
    gather: r === 0 ? ranks.map((i) => i * i) : null,
    allgather: ranks.map((i) => i + 1),
    reduce: r === 0 ? (n * (n + 1)) / 2 : null,
    allreduce: n - 1,
    alltoall: ranks.map((j) => j * 100 + r),
    scan: ((r + 1) * (r + 2)) / 2,
    exscan: r === 0 ? null : (r * (r + 1)) / 2,
    split: {
      color: r % 2,
      rank: mine.indexOf(r),
      size: mine.length,
      sum: mine.reduce((s, i) => s + i, 0),
    },
  };
}

// The last case runs on k-nomial trees (what dsrun picks on its own when ranks outnumber cores).
const CASES: Array<[number, string[]]> = [
  [1, []],
  [3, []],
  [4, []],
  [5, ['-x', 'DSMPI_COLL_RADIX=3']],
];

for (const [n, extra] of CASES) {
  t.test(`examples/collectives.ts at n = ${n} ${extra.join(' ')}: every rank's results are right`, async (t) => {
    const r = await dsrun(['-n', String(n), ...extra, '--timeout', '20', 'examples/collectives.ts'], { limitMs: 30000 });
    t.equal(r.code, 0, r.stderr);
    const tickets: number[] = [];
    for (let rank = 0; rank < n; rank++) {
      const m = new RegExp(`^\\[rank ${rank}\\] results (.*)$`, 'm').exec(r.stdout);
      t.ok(m, `rank ${rank} printed its results`);
      if (!m) continue;
      const got = JSON.parse(m[1]) as Record<string, unknown> & {
        counter: { ticket: number; total: number };
      };
      const { counter, ...rest } = got;
      t.same(rest, expected(rank, n), `rank ${rank}`);
      t.equal(counter.total, n, `rank ${rank}: the counter counted every rank`);
      tickets.push(counter.ticket);
    }
    t.same(
      tickets.sort((a, b) => a - b),
      Array.from({ length: n }, (_, i) => i),
      'fetchAndOp handed out each value 0..n-1 once',
    );
  });
}

t.test('a bad DSMPI_COLL_RADIX is a usage error', async (t) => {
  const r = await dsrun(['-n', '2', '-x', 'DSMPI_COLL_RADIX=1', 'examples/hello.ts']);
  t.equal(r.code, 2);
  t.match(r.stderr, /DSMPI_COLL_RADIX must be an integer >= 2, got '1'/);
});
