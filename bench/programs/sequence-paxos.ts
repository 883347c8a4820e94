// Sequence Paxos under dsrun: every rank is a client appending `perClient` values with `window` in
// flight. Rank 0 prints JSON: decisions per second, the median and p99 latency of a decision (first
// send of a value to its client seeing it decided), and protocol messages per decision (failure
// detector heartbeats and the final farewell counted apart) against the ideal 2(n-1) + (n-1).
// Usage: dsrun -n 5 bench/programs/sequence-paxos.ts [perClient=400] [window=8]
import { run } from 'dsmpi';
import {
  defaultSequenceOptions,
  sequenceMachine,
  startSequence,
  Tag,
  type SequenceState,
  type Value,
} from '../../algorithms/paxos/sequence-paxos.ts';
import { isDetectorTag } from '../../algorithms/failure-detector.ts';
import { startWithFarewell, withFarewell, type WithFarewell } from '../../algorithms/common/farewell.ts';
import { range, serve, type Machine } from '../../algorithms/common/serve.ts';

const perClient = Number(process.argv[2] ?? 400);
const window = Number(process.argv[3] ?? 8);

await run(async (world) => {
  const values = range(0, world.size).map((r) => range(0, perClient).map((i) => `c${r}-${i}` as Value));
  const options = { ...defaultSequenceOptions, window, retryMs: 200, detector: { periodMs: 100, timeoutMs: 500, backoffMs: 200 } };
  await world.barrier();
  const start = world.clock.now();
  const state = startSequence(world.rank, world.size, start, values, options, world.storage);
  const firstSent = new Map<Value, number>();
  const latencies: number[] = [];
  let protocol = 0;
  let other = 0;
  let lastDecisionMs = start;
  let counted = 0;
  // The machine with its farewell, so the count includes the farewell's announcements.
  const ending = sequenceMachine.farewell!;
  const ended = withFarewell(sequenceMachine, ending);
  const machine: Machine<WithFarewell<SequenceState>> = {
    ...ended,
    step(w, input) {
      const r = ended.step(w, input);
      const s = w.state;
      for (const m of r[1]) {
        if (m.to === s.rank) continue; // to itself: not on the network
        if (isDetectorTag(m.tag) || m.tag === Tag.Farewell) other++;
        else protocol++;
      }
      for (const [v, t] of s.sentMs) if (!firstSent.has(v)) firstSent.set(v, t);
      const length = s.final ? s.final.length : s.ld;
      const log = s.final ?? s.va;
      for (; counted < length; counted++) {
        const t = firstSent.get(log[counted]);
        if (t !== undefined) latencies.push(input.nowMs - t);
        lastDecisionMs = input.nowMs;
      }
      return r;
    },
  };
  await serve(world, machine, startWithFarewell(ending, state, world.rank, world.size, world.clock.now()));
  const decisions = world.size * perClient;
  const totals = await world.allreduce([protocol, other], (a, b) => [a[0] + b[0], a[1] + b[1]]);
  const all = (await world.gather(latencies)) ?? [];
  const ends = await world.gather(lastDecisionMs - start);
  if (world.rank === 0) {
    const lat = all.flat().sort((a, b) => a - b);
    const elapsedMs = Math.max(...ends!);
    const n = world.size;
    console.log(
      JSON.stringify({
        n,
        decisions,
        window,
        decisionsPerSec: Math.round(decisions / (elapsedMs / 1000)),
        medianLatencyMs: Number(lat[Math.floor(lat.length / 2)].toFixed(3)),
        p99LatencyMs: Number(lat[Math.floor(lat.length * 0.99)].toFixed(3)),
        protocolMessagesPerDecision: Number((totals[0] / decisions).toFixed(2)),
        idealPerDecision: 3 * (n - 1),
        heartbeatAndFarewellMessages: totals[1],
      }),
    );
  }
});
