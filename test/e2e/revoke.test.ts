import t from 'tap';
import { expectedSum } from '../../algorithms/resilient-pipeline.ts';
import { dsrun } from '../helpers/dsrun.ts';

t.test('the pipeline under dsrun: its middle rank killed, the survivors revoke, shrink and finish', async (t) => {
  const items = 80; // 2 s of items at 25 ms: the kill lands mid-stream
  const r = await dsrun(['-n', '3', '--kill', '1@0.5s', 'examples/resilient-pipeline.ts', String(items)]);
  t.equal(r.code, 0, r.stderr);
  const sums = r.stdout.split('\n').filter((l) => l.includes('sum '));
  t.equal(sums.length, 2, r.stdout);
  for (const line of sums) t.match(line, `sum ${expectedSum(items)} (correct), recovered over the survivors`);
  t.match(r.stderr, /rank 1 was lost/);
});
