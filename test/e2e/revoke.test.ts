import t from 'tap';
import { runLocal, simulate } from 'dsmpi';
import { dsrun } from '../helpers/dsrun.ts';
import { revokeWaitingBarrier } from '../helpers/revoke-barrier.ts';

/** What the pipeline must sum: each of the items 0..items-1 doubled by the middle stage. */
const doubledSum = (items: number): number => Array.from({ length: items }, (_, i) => 2 * i).reduce((s, x) => s + x, 0);

t.test('the pipeline under dsrun: its middle rank killed, the survivors revoke, shrink and finish', async (t) => {
  const items = 80; // 2 s of items at 25 ms: the kill lands mid-stream
  const r = await dsrun(['-n', '3', '--kill', '1@0.5s', 'examples/resilient-pipeline.ts', String(items)]);
  t.equal(r.code, 0, r.stderr);
  const sums = r.stdout.split('\n').filter((l) => l.includes('sum '));
  t.equal(sums.length, 2, r.stdout);
  for (const line of sums) t.match(line, `sum ${doubledSum(items)} (correct), recovered over the survivors`);
  t.match(r.stderr, /rank 1 was lost/);
});

t.test('revoke fails a barrier that waits, on every transport (threads: the shared-memory barrier)', async (t) => {
  const expected = ['rank 0 barrier: DS_ERR_REVOKED', 'rank 1 barrier: DS_ERR_REVOKED', 'rank 2 barrier: DS_ERR_REVOKED'];
  for (const mode of [[], ['--threads']]) {
    const r = await dsrun(['-n', '3', '--quiet', ...mode, 'test/fixtures/revoke-barrier.ts']);
    t.equal(r.code, 0, r.stderr);
    t.same(r.stdout.trim().split('\n').sort(), expected, `dsrun ${mode.join(' ')}`);
  }
  const local = await runLocal(3, revokeWaitingBarrier);
  t.same(local, ['DS_ERR_REVOKED', 'DS_ERR_REVOKED', 'DS_ERR_REVOKED'], 'runLocal');
  const sim = await simulate({ n: 3, seed: 4 }, revokeWaitingBarrier);
  t.same(sim.results, ['DS_ERR_REVOKED', 'DS_ERR_REVOKED', 'DS_ERR_REVOKED'], 'simulate');
});
