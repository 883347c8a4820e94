import t from 'tap';
import { simulate, type Communicator } from 'dsmpi';

// The collectives take O(log p) rounds: with every message taking exactly 1 ms of virtual time and
// sending and computing taking none, a call lasts as many milliseconds as its longest chain of
// messages. (Wall time on a real machine also grows with what each rank computes: see
// docs/collectives.md.)
const ROUNDS: Record<string, (p: number) => number> = {
  // dissemination
  barrier: (p) => Math.ceil(Math.log2(p)),
  // binomial tree
  bcast: (p) => Math.ceil(Math.log2(p)),
  // recursive doubling, with one round in and one out to fold the ranks past a power of two
  allreduce: (p) => Math.ceil(Math.log2(p)) + (Number.isInteger(Math.log2(p)) ? 0 : 2),
};
const CALLS: Record<string, (c: Communicator) => Promise<unknown>> = {
  barrier: (c) => c.barrier(),
  bcast: (c) => c.bcast(c.rank === 0 ? { tag: 'accept', value: 7 } : undefined),
  allreduce: (c) => c.allreduce([c.rank, 1], 'sum'),
};

t.test('barrier, bcast and allreduce last at most ⌈log₂ p⌉ message rounds (allreduce: +2 past a power of two)', async (t) => {
  for (const [name, call] of Object.entries(CALLS)) {
    const lasted: string[] = [];
    for (const p of [2, 3, 4, 5, 8, 13, 16, 32, 64]) {
      const r = await simulate({ n: p, seed: 1, faults: { delay: { minMs: 1, maxMs: 1 } } }, call);
      lasted.push(`${p}:${r.timeMs}`);
      t.ok(r.timeMs >= 1 && r.timeMs <= ROUNDS[name](p), `${name} at p = ${p}: ${r.timeMs} ms, at most ${ROUNDS[name](p)} rounds`);
    }
    t.comment(`${name}, p:ms: ${lasted.join(' ')}`);
  }
});
