// What a collective costs the CPU, apart from waking processes: n ranks in ONE process, linked by
// WsTransport over loopback as dsrun links processes, with the star trees dsrun picks when ranks
// outnumber cores (radix 64), run the loops of collective-wakeups.ts: barriers alone, then a bcast of
// the small object from a turning root followed by a barrier. The process never waits for another
// process to be scheduled, so its CPU time per call (user + system) is the work of the call's messages,
// sends, reads, dispatch and the collectives' own code, much as a loaded machine leaves it (wall time
// does not).
// Compare builds of dsmpi with it; profile with `node --cpu-prof --import tsx bench/collective-cpu.ts`.
// `roots`: ranks 0..roots-1 take turns as the bcast's root (default all, as the benches do); with
// fewer, the root's links stay in use, which shows what a message on a link idle for a while costs.
//   node --import tsx bench/collective-cpu.ts [ranks] [iterations] [roots]
import { realClock } from '../runtime/clock.ts';
import type { Communicator } from '../runtime/communicator.ts';
import { Engine } from '../runtime/engine.ts';
import { randomKey } from '../runtime/protocol/keys.ts';
import { startRank } from '../runtime/start-rank.ts';
import { msgpackCodec } from '../runtime/transport/codec.ts';
import { WsTransport } from '../runtime/transport/ws.ts';
import { smallMessage } from './stats.ts';

const WARM_UP = 3_000;
const size = Number(process.argv[2] ?? 16);
const iterations = Number(process.argv[3] ?? 3_000);
const roots = Number(process.argv[4] ?? size);
if (
  !(Number.isInteger(size) && size >= 2) ||
  !(Number.isInteger(iterations) && iterations > 0) ||
  !(Number.isInteger(roots) && roots >= 1 && roots <= size)
) {
  throw new Error('usage: collective-cpu.ts [ranks ≥ 2] [iterations] [roots: ranks 0..roots-1 take turns as the bcast root]');
}

const key = randomKey();
const addresses: string[] = [];
const transports = await Promise.all(
  Array.from({ length: size }, (_, rank) =>
    WsTransport.listen({ rank, size, jobId: 'collective-cpu', key, resolve: async (p) => addresses[p] }),
  ),
);
transports.forEach((tr, r) => (addresses[r] = tr.address));
const worlds = transports.map((transport, rank) =>
  startRank(
    new Engine({ codec: msgpackCodec, rank, size, transport, clock: realClock, seed: 1, abort: () => {}, collectiveRadix: 64 }),
    {},
  ),
);

const bcastThenBarrier = async (world: Communicator, i: number): Promise<void> => {
  const root = i % roots;
  await world.bcast(world.rank === root ? smallMessage(i) : undefined, root);
  await world.barrier();
};

/** CPU µs of the whole process per iteration of `body` run on every rank. */
async function cpuPerIteration(n: number, body: (world: Communicator, i: number) => Promise<void>): Promise<number> {
  const before = process.cpuUsage();
  await Promise.all(
    worlds.map(async (world) => {
      for (let i = 0; i < n; i++) await body(world, i);
    }),
  );
  const used = process.cpuUsage(before);
  return (used.user + used.system) / n;
}

await cpuPerIteration(WARM_UP, async (world, i) => {
  await world.barrier();
  await bcastThenBarrier(world, i);
});
const barrierUs = await cpuPerIteration(iterations, (world) => world.barrier());
const bcastUs = (await cpuPerIteration(iterations, bcastThenBarrier)) - barrierUs;
const round = (x: number): number => Math.round(x * 10) / 10;
console.log(JSON.stringify({ ranks: size, iterations, roots, barrierCpuUs: round(barrierUs), bcastCpuUs: round(bcastUs) }));
process.exit(0);
