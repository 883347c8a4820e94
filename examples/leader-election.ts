// Ballot-based bully election (book 4.2; the book's leader-election3.c, made to work): ranks stand
// after a jittered timeout with a ballot (counter, rank), vote, and a majority makes a Coordinator.
// The ranks keep watching the leader for a while (run time), then agree and each prints
// `leader <rank>`, the same on every rank. Kill the leader and the survivors elect another
// (`dsrun -n 5 --kill 4@0.5s examples/leader-election.ts`). Under dsrun's faults (docs/faults.md) it
// survives --drop, --delay, a --kill of a minority at any time, and partitions that heal.
// Usage: dsrun -n 5 examples/leader-election.ts [run time in ms, default 1500]
import { run } from 'dsmpi';
import { leaderElectionMain } from '../algorithms/leader-election.ts';
import { intArg } from './lib/args.ts';
import { exampleElectionOptions } from './lib/election-timing.ts';

const runMs = intArg(1, 'run time in ms', 1500, 1);

await run(
  async (world) => {
    const o = await leaderElectionMain(world, exampleElectionOptions(runMs));
    for (const h of o.history) console.log(`follows ${h.leader} (ballot ${h.ballot})`);
    console.log(`leader ${o.leader}`);
  },
  { surviveFailures: true },
);
