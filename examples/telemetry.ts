// Telemetry (the book's exercise 4): single-decree Paxos, unchanged, run on an instrumented
// communicator that reports every send, receive, phase and decision to a telemetry rank (the last
// rank) over a separate channel. The telemetry rank prints the 8.5.2 metrics as a table, then one
// line `messages=… bytes=… rounds=… retries=… nacks=… steps=… decide_ms=…`.
// Usage: dsrun -n 5 examples/telemetry.ts   (n >= 5, as examples/paxos.ts)
import { run } from 'dsmpi';
import { defaultPaxosOptions, singlePaxosMain, Tag as PaxosTag } from '../algorithms/paxos/single-paxos.ts';
import { collectTelemetry, formatSummary, instrument, summarize, type Classify } from '../algorithms/telemetry/telemetry.ts';

const tagNames = Object.fromEntries(Object.entries(PaxosTag).map(([name, tag]) => [tag, name]));
const ballotOf = (data: unknown): string => JSON.stringify((data as { ballot: unknown }).ballot);
const classify: Classify = (direction, tag, data) => {
  if (direction !== 'send') return undefined;
  if (tag === PaxosTag.Prepare) return { phase: `prepare ${ballotOf(data)}` };
  if (tag === PaxosTag.Accept) return { phase: `accept ${ballotOf(data)}` };
  if (tag === PaxosTag.Decide) return { decision: true }; // a rank announces a value once it knows it
  return undefined;
};

await run(
  async (world) => {
    const channel = await world.dup();
    const telemetry = world.size - 1;
    await world.barrier();
    const t = instrument(world, channel, telemetry, world.clock.now(), classify);
    const o = await singlePaxosMain(t.comm, (rank) => 40 + rank, {
      ...defaultPaxosOptions,
      retryMs: 100,
    });
    await t.end();
    if (world.rank === telemetry) {
      const events = await collectTelemetry(channel);
      console.log(`decided ${JSON.stringify(o.decided)}; ${events.length} telemetry events`);
      console.log(formatSummary(summarize(events, tagNames, 'prepare')));
    }
  },
  { surviveFailures: true },
);
