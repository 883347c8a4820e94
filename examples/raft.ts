// Raft (book 4.3; the Raft paper): every rank is a server and a client. Servers elect a leader with
// randomized election timeouts; each client submits its commands c<rank>-0, c<rank>-1, ... to the
// leader, which replicates them and commits them on a majority. Every rank prints the terms it led,
// the last leader and term it knew, and last `log [...]`: the commands it applied, in order, the
// same on every rank. Kill the leader and the others elect another and go on: `dsrun -n 5 --kill
// R@0.8s examples/raft.ts 300` (R the leader a run without the kill names; 300 commands per client
// so the job outlasts the kill). Under dsrun's faults (docs/faults.md) it survives --drop, --delay, a
// --kill of a minority at any time, and partitions that heal; a partition that never
// heals leaves the cut-off ranks' peers waiting (use --timeout).
// Usage: dsrun -n 5 examples/raft.ts [commands per client, default 3]
import { run } from 'dsmpi';
import { defaultRaftOptions, raftMain } from '../algorithms/raft/raft.ts';
import { intArg } from './lib/args.ts';

const perClient = intArg(1, 'commands per client', 3);

await run(
  async (world) => {
    const o = await raftMain(world, (r) => Array.from({ length: perClient }, (_, i) => `c${r}-${i}`), {
      ...defaultRaftOptions,
      window: 1,
    });
    for (const l of o.led) console.log(`term ${l.term}: rank ${world.rank} became leader (votes ${l.votes.join(',')})`);
    console.log(`leader ${o.leader ?? '?'} term ${o.term}`);
    console.log(`log ${JSON.stringify(o.log)}`);
  },
  { surviveFailures: true },
);
