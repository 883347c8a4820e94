// Sequence Paxos (book 4.1; the book's sequence-paxos4.c, generalised as its exercise 1): every rank
// is acceptor, learner and client; the lowest rank not suspected leads. Each client appends its
// values c<rank>-0, c<rank>-1, ...; every rank ends with `log [...]`, the same log everywhere.
// A killed leader is replaced and the log goes on: `dsrun -n 5 --kill 0@0.3s
// examples/sequence-paxos.ts 200` (200 values per client, so the job outlasts the kill; dsrun ends
// with `rank 0 was lost …; the survivors finished`). Under dsrun's faults (docs/faults.md) it
// survives --drop, --delay, a --kill of a minority at any time, and partitions that
// heal; a partition that never heals leaves the cut-off ranks' peers waiting (use --timeout).
// Usage: dsrun -n 5 examples/sequence-paxos.ts [values per client, default 3]
import { run } from 'dsmpi';
import { defaultSequenceOptions, sequencePaxosMain } from '../algorithms/paxos/sequence-paxos.ts';
import { intArg } from './lib/args.ts';

const perClient = intArg(1, 'values per client', 3);

await run(
  async (world) => {
    const o = await sequencePaxosMain(world, (r) => Array.from({ length: perClient }, (_, i) => `c${r}-${i}`), {
      ...defaultSequenceOptions,
      retryMs: 100,
      detector: { periodMs: 50, timeoutMs: 250, backoffMs: 100 },
    });
    if (o.led.length > 0) console.log(`rank ${world.rank} led in ballot(s) ${o.led.join(' ')}`);
    console.log(`log ${JSON.stringify(o.log)}`);
  },
  { surviveFailures: true },
);
