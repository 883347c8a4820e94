// Sequence Paxos (book 4.1; the book's sequence-paxos4.c, generalised as its exercise 1): every rank
// is acceptor, learner and client; the lowest rank not suspected leads. Each client appends its
// values c<rank>-0, c<rank>-1, ...; every rank ends with `log [...]`, the same log everywhere.
// A killed leader (dsrun --kill 0@0.3s) is replaced and the log goes on.
// Usage: dsrun -n 5 examples/sequence-paxos.ts [values per client, default 3]
import { run } from 'dsmpi';
import { defaultSequenceOptions, sequencePaxosMain } from '../algorithms/paxos/sequence-paxos.ts';

const perClient = Number(process.argv[2] ?? 3);

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
