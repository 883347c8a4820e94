import t from 'tap';
import { checkPaxosSpace } from '../../algorithms/fuzz-targets/bfs-paxos.ts';
import { Tag } from '../../algorithms/paxos/single-paxos.ts';

t.test('the Paxos port, no loss and no timer: exhausted, agreement holds, symmetry folds the acceptors', async (t) => {
  const folded = checkPaxosSpace({ drops: 0, ticks: 0 });
  const plain = checkPaxosSpace({ drops: 0, ticks: 0, symmetry: false });
  t.match(folded, { exhausted: true, failure: undefined });
  t.match(plain, { exhausted: true, failure: undefined, depth: folded.depth });
  // At most 3! = 6 states fold into one; most states have no symmetry of their own.
  t.ok(plain.states > 3 * folded.states && plain.states <= 6 * folded.states, `${plain.states} states folded to ${folded.states}`);
});

t.test('a seeded bug (an acceptor that forgets its accepted value in Promise) is found with a shortest path', async (t) => {
  const r = checkPaxosSpace({
    drops: 0,
    ticks: 0,
    variant: (real) => ({
      ...real,
      step: (s, input) => {
        const [next, out] = real.step(s, input);
        return [next, out.map((m) => (m.tag === Tag.Promise ? { ...m, data: { ...(m.data as object), accepted: null } } : m))];
      },
    }),
  });
  t.equal(r.exhausted, false);
  t.match(r.failure?.message, /agreement violated: (A and B|B and A)/);
  // Each value needs a Propose, 2 Prepares, 2 Promises and 2 Accepts delivered (7 each) to be
  // accepted by a majority; the two majorities share an acceptor, which holds only the later value,
  // so the earlier one must also be decided by its proposer: 2 Accepted. 16 deliveries, no fewer.
  t.equal(r.failure?.depth, 16);
  t.equal(r.failure?.path.length, 16);
  t.match(r.failure?.path[0], /Propose/);
});
