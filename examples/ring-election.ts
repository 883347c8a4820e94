// Ring election (Chang-Roberts): rank 0 starts; the largest id wins; worst case 3N−1 messages.
// Usage: dsrun -n 5 examples/ring-election.ts [initiator]   (docs/algorithms/ring-election.md)
import { run } from 'dsmpi';
import { mergeCounts, sumCounts } from '../algorithms/classic/common.ts';
import { ringElection, ringElectionMessages } from '../algorithms/classic/ring-election.ts';
import { intArg } from './lib/args.ts';

await run(async (world) => {
  const initiator = intArg(1, 'initiator rank', 0, 0, world.size - 1);
  const r = await ringElection(world, { initiators: [initiator] });
  console.log(`leader = ${r.leader}`);
  const all = await world.gather(r);
  if (world.rank !== 0) return;
  const messages = sumCounts(mergeCounts(all!.map((x) => x.sent)));
  const formula = ringElectionMessages(world.size, initiator);
  const agree = all!.every((x) => x.leader === world.size - 1);
  console.log(`CHECK all agree on leader ${world.size - 1}: ${agree ? 'OK' : 'FAIL'}`);
  console.log(
    `CHECK messages = ${messages} (formula from rank ${initiator}: ${formula}; worst case 3N-1 = ${3 * world.size - 1}): ${messages === formula ? 'OK' : 'FAIL'}`,
  );
});
