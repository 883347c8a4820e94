import t from 'tap';
import { checkCollectivesOutput } from '../helpers/collectives-output.ts';
import { dsrun } from '../helpers/dsrun.ts';

// The last case runs on k-nomial trees (what dsrun picks on its own when ranks outnumber cores).
const CASES: Array<[number, string[]]> = [
  [1, []],
  [3, []],
  [4, []],
  [5, ['-x', 'DSMPI_COLL_RADIX=3']],
];

for (const [n, extra] of CASES) {
  t.test(`examples/collectives.ts at n = ${n} ${extra.join(' ')}: every rank's results are right`, async (t) => {
    const r = await dsrun(['-n', String(n), ...extra, '--timeout', '60', 'examples/collectives.ts'], { limitMs: 90_000 });
    t.equal(r.code, 0, r.stderr);
    checkCollectivesOutput(t, r.stdout, n);
  });
}

t.test('a bad DSMPI_COLL_RADIX is a usage error', async (t) => {
  const r = await dsrun(['-n', '2', '-x', 'DSMPI_COLL_RADIX=1', 'examples/hello.ts']);
  t.equal(r.code, 2);
  t.match(r.stderr, /DSMPI_COLL_RADIX must be an integer >= 2, got '1'/);
});
