import t from 'tap';
import { reached } from '../helpers/bfs-reduction-cases.ts';

// Losses proven as delays (lossAsDelay) in the Paxos model, where the search branching on each loss
// ends too: the same configurations of the ranks (up to renaming the acceptors), the same verdict.
t.test('no timer: ≤1 and ≤2 losses branched on reach what the search without losses reaches', async (t) => {
  const subsumed = reached({ drops: 2, ticks: 0 });
  t.match(subsumed, { exhausted: true, failure: undefined });
  for (const drops of [1, 2]) {
    const literal = reached({ drops, literalDrops: true, ticks: 0 });
    t.match(literal, { exhausted: true, failure: undefined });
    t.ok(literal.states > subsumed.states, `${literal.states} states with ≤${drops} losses branched on, ${subsumed.states} without`);
    t.same([...literal.configurations].sort(), [...subsumed.configurations].sort(), `≤${drops} losses: the same configurations`);
  }
});
