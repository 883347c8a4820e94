// Single-decree Paxos with a telemetry role (book 4.1 and 4.4; the book's single-paxos3-snapshot.c).
// Ranks form five blocks: clients, proposers, acceptors, learners, telemetry (n = 5k; other n >= 5
// give the extra ranks to the acceptors). Each client proposes its own value; every rank ends with
// `decided <value>`, the same everywhere. Survives the death of a minority of the acceptors (dsrun
// --kill; n = 7 has three acceptors, ranks 2..4: `dsrun -n 7 --kill 4@0s examples/paxos.ts`), and
// of telemetry ranks; also --drop, --delay and partitions that heal (docs/faults.md).
// Usage: dsrun -n 10 examples/paxos.ts [value of client 0] [value of client 1] ...
import { run } from 'dsmpi';
import { defaultPaxosOptions, paxosLayout, roleOf, singlePaxosMain } from '../algorithms/paxos/single-paxos.ts';

const args = process.argv.slice(2);
const clientValue = (rank: number): number | string => {
  const given = args[rank];
  if (given === undefined) return 40 + rank; // the book's client proposed 40
  return Number.isFinite(Number(given)) ? Number(given) : given;
};

await run(
  async (world) => {
    const layout = paxosLayout(world.size);
    const role = roleOf(layout, world.rank);
    if (role === 'client') console.log(`client ${world.rank} proposes ${JSON.stringify(clientValue(world.rank))}`);
    const o = await singlePaxosMain(world, clientValue, { ...defaultPaxosOptions, retryMs: 100 });
    if (role === 'proposer') console.log(`proposer ${world.rank}: last ballot ${o.ballot}, ${o.attempts} attempt(s), ${o.nacks} nack(s)`);
    if (role === 'telemetry')
      console.log(
        `telemetry ${world.rank}: ${o.snapshots!.length} snapshot(s) stored: ${JSON.stringify(o.snapshots!.map((s) => [s.status, s.value]))}`,
      );
    console.log(`decided ${JSON.stringify(o.decided)}`);
  },
  { surviveFailures: true },
);
