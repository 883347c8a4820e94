// Primary-backup replication of a key-value store with failover (Coulouris 18.3; course notes).
// Ranks 0..2 are replicas (rank 0 the first primary), the rest clients doing get/put/append. The
// primary replicates every write to the live backups before it answers; kill it (--kill 0@0.3s) and
// rank 1 takes over. The last client checks the whole history with the linearizability checker.
// Usage: dsrun -n 6 [--kill 0@0.3s] examples/primary-backup.ts [ops per client=100] [variant]
//   variant: correct (default) | ack-before-replicate | read-from-backups (both broken on purpose)
import { epochOffsetMs, run } from 'dsmpi';
import { checkKvHistory, collectHistories, primaryBackupMain, type HistoryEvent } from '../algorithms/replication/primary-backup.ts';
import { formatHistory } from '../algorithms/checkers/linearizability.ts';
import { kvModel } from '../algorithms/checkers/models.ts';
import { choiceArg, intArg } from './lib/args.ts';

const opsPerClient = intArg(1, 'operations per client', 100, 1);
const variant = choiceArg(2, 'variant', ['correct', 'ack-before-replicate', 'read-from-backups'], 'correct');
const replicas = 3;

await run(
  async (world) => {
    const o = await primaryBackupMain(world, {
      replicas,
      opsPerClient,
      retryMs: 100,
      giveUpMs: 2_000,
      thinkMs: 6,
      ackBeforeReplicate: variant === 'ack-before-replicate',
      lazyMs: 200,
      readFromBackups: variant === 'read-from-backups',
    });
    if (o.role === 'client') {
      // world.clock counts from this process's own origin: move the times onto the machine's time line.
      const shiftMs = epochOffsetMs(() => world.clock.now());
      o.history = o.history!.map((e): HistoryEvent => ({ ...e, timeMs: e.timeMs + shiftMs }));
      const count = (type: string): number => o.history!.filter((e) => e.type === type).length;
      console.log(`client ${world.rank}: ${count('ok')} ok, ${count('info')} indefinite, ${count('fail')} failed`);
      const collected = await collectHistories(world, o, replicas);
      if (collected) {
        // Times in ms since the first invocation, for a readable counterexample.
        const t0 = Math.min(...collected.map((e) => e.timeMs));
        const all = collected.map((e) => ({ ...e, timeMs: Math.round((e.timeMs - t0) * 1000) / 1000 }));
        const r = checkKvHistory(all);
        const n = all.filter((e) => e.type === 'invoke').length;
        if (r.verdict === 'not-linearizable') console.log(`counterexample:\n${formatHistory(r.illegal!, kvModel() as never)}`);
        console.log(`CHECK history of ${n} operations is linearizable: ${r.verdict === 'linearizable' ? 'OK' : `FAIL (${r.verdict})`}`);
        if (r.verdict !== 'linearizable' && variant === 'correct') process.exitCode = 1;
      }
    } else {
      const s = o.stats!;
      console.log(`replica ${world.rank}: ${o.primary ? 'primary' : 'backup'}, ${s.applied} writes applied, ${s.takeovers} takeover(s)`);
      console.log(`store ${JSON.stringify(Object.fromEntries(Object.entries(o.store!).sort()))} version ${o.version}`);
    }
  },
  { surviveFailures: true },
);
