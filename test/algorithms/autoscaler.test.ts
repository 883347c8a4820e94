// The autoscaler (exercise 7) in the simulator: synthetic load up then down; the pool grows and
// shrinks around the workers already there, and every task is done exactly once.
import t, { type Test } from 'tap';
import { simulate, type Communicator } from '../../runtime/index.ts';
import { runManager, runWorker, type AutoscalerReport } from '../../algorithms/autoscaler/autoscaler.ts';
import { scriptedSampler } from '../../algorithms/autoscaler/load-sampler.ts';

const TASKS = 60;
const load = [90, 90, 90, 90, 90, 90, 50, 10, 10, 10, 10, 10, 10, 10, 10];

function program(lines: string[]) {
  return async (world: Communicator): Promise<AutoscalerReport | undefined> => {
    if (world.parent)
      return runWorker(world, async (task) => {
        await world.clock.sleep(40);
        return (task.payload as number) + 1;
      });
    return runManager(world, {
      tasks: Array.from({ length: TASKS }, (_, i) => i),
      sampler: scriptedSampler(load),
      sampleMs: 100,
      minSamples: load.length,
      policy: { minWorkers: 1, maxWorkers: 5, patience: 2, cooldown: 1 },
      log: (line) => lines.push(line),
    });
  };
}

function check(t: Test, report: AutoscalerReport, lines: string[]): void {
  const ids = report.completions.map((c) => c.id).sort((a, b) => a - b);
  t.same(
    ids,
    Array.from({ length: TASKS }, (_, i) => i),
    'every task done exactly once',
  );
  t.same(report.duplicates, []);
  for (const c of report.completions) t.equal(c.result, c.id + 1);
  t.ok(report.peak >= 3, `the pool grew (peak ${report.peak})`);
  const ups = report.decisions.filter((d) => d.delta > 0).length;
  const downs = report.decisions.filter((d) => d.delta < 0).length;
  t.ok(ups >= 2 && downs >= 2, `grew and shrank incrementally (+${ups} -${downs})`);
  t.equal(new Set(report.spawned).size, report.spawned.length, 'each worker spawned once: none restarted');
  t.same([...report.retired].sort(), [...report.spawned].sort(), 'every worker retired in the end');
  t.equal(report.spawned.length, 1 + ups, 'one spawn per worker added: the first stayed');
  t.match(lines[0], /^load=\d+\.\d active=\d+ decision=(\+\d+|-\d+|hold)$/);
  t.ok(lines.some((l) => /decision=\+1/.test(l)) && lines.some((l) => /decision=-1/.test(l)));
}

t.test('simulated: grows with high load, shrinks with low load, tasks exactly once', async (t) => {
  for (const seed of [1, 2, 3]) {
    const lines: string[] = [];
    const r = await simulate({ n: 1, seed, timeLimitMs: 60_000 }, program(lines));
    check(t, r.results[0]!, lines);
    t.equal(r.crashed.length, 0);
  }
});

t.test('simulated: the same seed replays the same run', async (t) => {
  const a = await simulate({ n: 1, seed: 9 }, program([]));
  const b = await simulate({ n: 1, seed: 9 }, program([]));
  t.equal(a.jsonl(), b.jsonl());
});
