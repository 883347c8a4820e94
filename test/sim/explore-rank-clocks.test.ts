import t from 'tap';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Communicator } from 'dsmpi';
import { explore, type ExploreRun } from 'dsmpi/explore';
import { simulate } from '../../runtime/sim/simulate.ts';

/**
 * Ranks 1 and 2 sleep 10 and 20 ms, then tell rank 0 the time on their clock. With one clock for all
 * ranks, taking rank 2's timer first makes rank 1's fire at 20 ms: the two timers touch different
 * ranks, yet do not commute. `seen` gets each execution's reports, by rank.
 */
function wakeTimes(): { seen: string[]; run: () => ExploreRun<void> } {
  const seen: string[] = [];
  const run = (): ExploreRun<void> => {
    const reports: string[] = [];
    return {
      main: async (comm: Communicator) => {
        if (comm.rank === 0) {
          for (let i = 0; i < 2; i++) {
            const { data, source } = await comm.recv<number>();
            reports[source] = `${source}@${Math.round(data)}`;
          }
        } else {
          await comm.clock.sleep(10 * comm.rank);
          await comm.send(comm.clock.now(), 0);
        }
      },
      check: () => void seen.push(reports.filter(Boolean).join(' ')),
    };
  };
  return { seen, run };
}

const outcomes = (seen: string[]): string[] => [...new Set(seen)].sort();

t.test('one clock: two timers of different ranks do not commute, and dpor misses what their swap does', async (t) => {
  const full = wakeTimes();
  await explore({ n: 3, strategy: 'dfs', timing: 'async' }, full.run);
  const reduced = wakeTimes();
  const r = await explore({ n: 3, strategy: 'dpor', timing: 'async', deepening: false }, reduced.run);
  t.equal(r.exhausted, true);
  t.ok(outcomes(full.seen).includes('1@20 2@20'), `dfs: rank 1's timer fired late, at rank 2's time (${outcomes(full.seen).join(', ')})`);
  t.notOk(outcomes(reduced.seen).includes('1@20 2@20'), 'dpor, whose dependence is by rank, never runs that swap');
});

t.test('rank clocks: events of different ranks commute exactly, and dpor reaches every outcome dfs reaches', async (t) => {
  const full = wakeTimes();
  const every = await explore({ n: 3, strategy: 'dfs', timing: 'async', rankClocks: true }, full.run);
  const reduced = wakeTimes();
  const r = await explore({ n: 3, strategy: 'dpor', timing: 'async', deepening: false, rankClocks: true }, reduced.run);
  t.equal(every.exhausted && r.exhausted, true, 'both exhausted');
  t.same(outcomes(full.seen), ['1@10 2@20'], 'whatever the order, each rank wakes at its own time');
  t.same(outcomes(reduced.seen), outcomes(full.seen), 'dpor: the same outcomes');
  t.ok(r.executions < every.executions, `in fewer executions (${r.executions} against ${every.executions})`);
});

t.test('rank clocks: with no deviation the explorer runs the seeded simulation of the same model, byte for byte', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dsmpi-rank-clocks-'));
  const main = async (comm: Communicator) => {
    for (let round = 0; round < 3; round++) {
      for (let peer = 0; peer < comm.size; peer++) if (peer !== comm.rank) await comm.send(round, peer);
      for (let peer = 1; peer < comm.size; peer++) await comm.recv();
      await comm.clock.sleep(comm.random() * 3);
    }
  };
  for (const seed of [3, 8]) {
    const seeded = await simulate({ n: 4, seed, rankClocks: true }, main);
    const path = join(dir, `${seed}.jsonl`);
    await explore({ n: 4, strategy: 'delay-bounding', seed, schedule: '', rankClocks: true, trace: path }, () => ({ main }));
    t.equal(readFileSync(path, 'utf8'), seeded.jsonl(), `seed ${seed}: byte for byte`);
    const plain = await simulate({ n: 4, seed }, main);
    t.equal(seeded.trace.length, plain.trace.length, `seed ${seed}: the same events as with one clock`);
    t.not(seeded.jsonl(), plain.jsonl(), `seed ${seed}: at latencies drawn per link`);
  }
});

t.test('rank clocks: a rank’s time never goes back, also after a fault ran its code (a restart) at the latest time', async (t) => {
  // Rank 1 crashes at 0.3 ms and restarts 5 ms later; rank 2 sends it a message at 1 ms; rank 0
  // sleeps 50 ms. With rank 0's timer taken first, the restart (a fault: after everything run so
  // far) runs rank 1's program at 50 ms; rank 2's message, due before, must not then run on rank 1's
  // clock of before the crash.
  const run = (): ExploreRun<void> => {
    const readings: number[] = [];
    return {
      main: async (comm: Communicator) => {
        if (comm.rank === 1) {
          readings.push(comm.clock.now());
          await comm.recv();
          readings.push(comm.clock.now());
        } else if (comm.rank === 2) {
          await comm.clock.sleep(1);
          await comm.send('hello', 1);
        } else {
          await comm.clock.sleep(50);
        }
      },
      always: () => {
        for (let i = 1; i < readings.length; i++)
          if (readings[i] < readings[i - 1]) throw new Error(`rank 1's clock went back: ${readings.join(' ms, ')} ms`);
      },
    };
  };
  const faults = { crashes: [{ rank: 1, atMs: 0.3, restartAfterMs: 5 }] };
  const r = await explore({ n: 3, strategy: 'dfs', timing: 'async', rankClocks: true, faults, executions: 500 }, run);
  t.equal(r.failure, undefined, r.failure?.message ?? 'no schedule makes it go back');
  t.ok(r.executions > 1, `${r.executions} executions`);
});
