/**
 * Dead-message elimination (deadMessages) must not change what the ranks can reach: the same
 * configurations of the ranks, the same verdicts, the same shortest counterexamples, fewer states.
 * The cases are run by test/sim/explore-bfs-reduction.test.ts (no loss) and explore-bfs-reduction-loss.test.ts
 * (one loss), one file each so that each has the test timeout to itself.
 */
import type { Test } from 'tap';
import { canonical } from 'dsmpi/explore';
import { checkPaxosSpace, type PaxosSpaceOptions } from '../../algorithms/fuzz-targets/bfs-paxos.ts';
import { Tag, type PaxosState } from '../../algorithms/paxos/single-paxos.ts';

/** A configuration of the ranks, up to renaming the acceptors (the symmetry folds them differently in each search). */
export function configuration(states: readonly { state: PaxosState<string> }[]): string {
  const proposers: string[] = [];
  const acceptors: string[] = [];
  for (const { state: s } of states) {
    if (s.role === 'acceptor') acceptors.push(canonical(s.acceptor));
    else {
      const p = s.proposer;
      const promises = [...p.promises.values()].map(canonical).sort();
      proposers.push(canonical({ ...p, promises, accepts: p.accepts.size, decided: s.decided, nowMs: s.nowMs }));
    }
  }
  return `${proposers.join(';')}|${acceptors.sort().join(';')}`;
}

export function reached(o: PaxosSpaceOptions): { configurations: Set<string>; states: number; exhausted: boolean; failure: unknown } {
  const configurations = new Set<string>();
  const r = checkPaxosSpace({ ...o, observe: (states) => void configurations.add(configuration(states)) });
  return { configurations, states: r.states, exhausted: r.exhausted, failure: r.failure };
}

/** Acceptors that forget what they accepted when they promise: two values get chosen. */
const forgetful: PaxosSpaceOptions['variant'] = (real) => ({
  ...real,
  step: (s, input) => {
    const [next, out] = real.step(s, input);
    return [next, out.map((m) => (m.tag === Tag.Promise ? { ...m, data: { ...(m.data as object), accepted: null } } : m))];
  },
});

export function sameConfigurations(t: Test, drops: number): void {
  t.test(`≤${drops} drops, no timer: the same configurations of the ranks with and without dead messages`, async (t) => {
    const full = reached({ drops, literalDrops: true, ticks: 0, deadMessages: false });
    const cut = reached({ drops, literalDrops: true, ticks: 0 });
    t.match(full, { exhausted: true, failure: undefined });
    t.match(cut, { exhausted: true, failure: undefined });
    t.ok(cut.states < full.states, `${full.states} states, ${cut.states} without dead messages`);
    t.equal(cut.configurations.size, full.configurations.size);
    t.same(
      [...cut.configurations].filter((c) => !full.configurations.has(c)),
      [],
    );
  });
}

export function sameShortestBug(t: Test, drops: number): void {
  t.test(`≤${drops} drops: a seeded bug is found at the same shortest depth with and without dead messages`, async (t) => {
    const full = checkPaxosSpace({ drops, literalDrops: true, ticks: 0, variant: forgetful, deadMessages: false });
    const cut = checkPaxosSpace({ drops, literalDrops: true, ticks: 0, variant: forgetful });
    t.match(full.failure?.message, /agreement violated/);
    t.match(cut.failure?.message, /agreement violated/);
    t.equal(cut.failure?.depth, full.failure?.depth);
    t.equal(cut.failure?.depth, 16);
    t.ok(cut.states <= full.states, `${full.states} states to the bug, ${cut.states} without dead messages`);
  });
}
