import t from 'tap';
import { checkStateSpace, canonical, type SpaceMachine, type SpaceMessage, type SpaceNode } from 'dsmpi/explore';

const PING = 1;
const PONG = 2;

/** Rank 0 pings rank 1 `max` times, one at a time; its timer (if it has a budget) resends the ping. */
function pingPong(max: number, pingerTicks = 0): { nodes: SpaceNode<{ n: number }>[]; messages: SpaceMessage[] } {
  const pinger: SpaceMachine<{ n: number }> = {
    step: (s, input) => {
      if (input.type === 'tick') return [s, [{ to: 1, tag: PING, data: s.n }]];
      if (input.tag === PONG && input.data === s.n) {
        s.n++;
        return [s, s.n < max ? [{ to: 1, tag: PING, data: s.n }] : []];
      }
      return [s, []];
    },
    wakeAtMs: (s) => (s.n < max ? 10 : undefined),
    done: () => false,
  };
  const ponger: SpaceMachine<{ n: number }> = {
    step: (s, input) => {
      if (input.type !== 'message' || input.tag !== PING) return [s, []];
      s.n = Math.max(s.n, (input.data as number) + 1);
      return [s, [{ to: 0, tag: PONG, data: input.data }]];
    },
    wakeAtMs: () => undefined,
    done: () => false,
  };
  return {
    nodes: [
      { rank: 0, machine: pinger, state: { n: 0 }, ticks: pingerTicks },
      { rank: 1, machine: ponger, state: { n: 0 } },
    ],
    messages: [{ from: 0, to: 1, tag: PING, data: 0 }],
  };
}

t.test('a ping-pong of two rounds: the state counts worked out by hand', async (t) => {
  // Ping0, Pong0, Ping1, Pong1 in turn, then nothing in flight: 5 states, 4 deliveries.
  const r = checkStateSpace(pingPong(2));
  t.match(r, { states: 5, transitions: 4, depth: 4, exhausted: true });
  t.notOk(r.failure);
  // Each of the 4 states with a message in flight may also lose it (then nothing moves): 4 more
  // states, 4 more transitions.
  t.match(checkStateSpace({ ...pingPong(2), drops: 1 }), { states: 9, transitions: 8, depth: 4, exhausted: true });
  // Two losses add nothing: after one, nothing is in flight.
  t.match(checkStateSpace({ ...pingPong(2), drops: 2 }), { states: 9, transitions: 8 });
});

t.test('a timer fires at most its budget', async (t) => {
  // A single counter whose timer is always due: budget k gives k + 1 states in a line.
  const counter: SpaceMachine<{ n: number }> = {
    step: (s) => [{ n: s.n + 1 }, []],
    wakeAtMs: () => 5,
    done: (s) => s.n >= 10,
  };
  for (const ticks of [0, 1, 3])
    t.match(checkStateSpace({ nodes: [{ rank: 0, machine: counter, state: { n: 0 }, ticks }] }), {
      states: ticks + 1,
      transitions: ticks,
    });
  // done() ends it before the budget does.
  t.match(checkStateSpace({ nodes: [{ rank: 0, machine: counter, state: { n: 8 }, ticks: 5 }] }), { states: 3 });
  // With the pinger's resend timer (budget 1): every state of the 2-round run, plus duplicates of
  // the ping in flight; the resend is delivered like any message, so the count only grows.
  const plain = checkStateSpace(pingPong(2));
  const resending = checkStateSpace(pingPong(2, 1));
  t.ok(resending.states > plain.states && resending.exhausted);
});

/** A client asks three servers; each answers once; the client records who answered. */
function fanOut(): { nodes: SpaceNode<{ acks?: Set<number>; served?: boolean }>[]; messages: SpaceMessage[] } {
  const REQ = 3;
  const ACK = 4;
  const client: SpaceMachine<{ acks?: Set<number> }> = {
    step: (s, input) => {
      if (input.type === 'message' && input.tag === ACK) s.acks!.add(input.source);
      return [s, []];
    },
    wakeAtMs: () => undefined,
    done: () => false,
  };
  const server: SpaceMachine<{ served?: boolean }> = {
    step: (s, input) => {
      if (input.type !== 'message' || s.served) return [s, []];
      s.served = true;
      return [s, [{ to: input.source, tag: ACK, data: null }]];
    },
    wakeAtMs: () => undefined,
    done: () => false,
  };
  return {
    nodes: [
      { rank: 0, machine: client, state: { acks: new Set() } },
      ...[1, 2, 3].map((rank) => ({ rank, machine: server, state: { served: false } })),
    ],
    messages: [1, 2, 3].map((to) => ({ from: 0, to, tag: REQ, data: null })),
  };
}

const serverSymmetry = {
  groups: [[1, 2, 3]],
  renameState: (s: { acks?: Set<number>; served?: boolean }, rank: (r: number) => number) =>
    s.acks ? { acks: new Set([...s.acks].map(rank)) } : { ...s },
};

t.test('symmetry reduction folds the permutations of interchangeable servers', async (t) => {
  // Each server is in one of 3 phases (asked, answered, answer received), independently: 3^3
  // states; from each, one transition per server not yet in the last phase: 27 · 2 = 54.
  t.match(checkStateSpace(fanOut()), { states: 27, transitions: 54, depth: 6, exhausted: true });
  // With the servers interchangeable, a state is a multiset of 3 phases: C(5, 3) = 10; summing the
  // servers not done over them, 20 transitions.
  t.match(checkStateSpace({ ...fanOut(), symmetry: serverSymmetry }), { states: 10, transitions: 20, depth: 6, exhausted: true });
});

t.test('a violated invariant comes back with a shortest path that replays', async (t) => {
  for (const symmetry of [undefined, serverSymmetry]) {
    const r = checkStateSpace({
      ...fanOut(),
      symmetry,
      describe: (m) => `${m.from}>${m.to}:${m.tag}`,
      always: ({ states }) => (states[0].acks!.size >= 2 ? `two answers: ${[...states[0].acks!].join(',')}` : undefined),
    });
    t.equal(r.exhausted, false);
    t.match(r.failure, { depth: 4, message: /^two answers/ });
    // Four deliveries, each answer after its request, as in a real run.
    const path = r.failure!.path;
    t.equal(path.length, 4);
    for (const line of path) {
      const [from, to, tag] = line.split(/[>:]/).map(Number);
      if (tag === 4) t.ok(path.includes(`0>${from}:3`) && path.indexOf(`0>${from}:3`) < path.indexOf(line), `${line} after its request`);
      else t.equal(from, 0, `${line}: a request ${to}`);
    }
    const answered = path.filter((l) => l.endsWith(':4')).map((l) => Number(l.split('>')[0]));
    const named = r.failure!.message.replace('two answers: ', '').split(',').map(Number);
    t.same(named.sort(), answered.sort(), 'the message names the servers the path has answer');
  }
});

t.test('a throwing invariant is reported too, and a delivery may be ignored by the receiver', async (t) => {
  const r = checkStateSpace({
    ...pingPong(2),
    always: ({ states }) => {
      if (states[1].n === 2) throw new Error('second ping arrived');
    },
  });
  t.match(r.failure, { message: 'second ping arrived', depth: 3 });
  // Stateright's semantics: a delivery that changes nothing and sends nothing leaves the message in
  // flight. The pinger ignores a stale pong: with the resend, consuming it or not gives different spaces.
  const consumed = checkStateSpace(pingPong(2, 1));
  const kept = checkStateSpace({ ...pingPong(2, 1), ignoredStay: true });
  t.not(consumed.states, kept.states);
});

t.test('messages the model calls obsolete leave the network', async (t) => {
  // With the resend timer, a pong older than the pinger's count is ignored for good.
  const reached = (obsolete?: (s: { n: number }, m: SpaceMessage) => boolean) => {
    const counts = new Set<string>();
    const r = checkStateSpace({ ...pingPong(2, 1), obsolete, always: ({ states }) => void counts.add(`${states[0].n},${states[1].n}`) });
    return { r, counts: [...counts].sort() };
  };
  const kept = reached();
  const cut = reached((s, m) => m.tag === PONG && (m.data as number) < s.n);
  t.ok(cut.r.exhausted && !cut.r.failure);
  t.ok(cut.r.states < kept.r.states, `${kept.r.states} states, ${cut.r.states} without the obsolete pongs`);
  t.same(cut.counts, kept.counts, 'the same configurations of the nodes');
});

t.test('a loss is a delay forever: with lossAsDelay the nodes and monitor reach what any number of losses reaches', async (t) => {
  // Three rounds with the resend timer (budget 2), ignored messages consumed or kept, and a monitor
  // counting the messages sent: what the invariant sees (states and monitor) with 1 or 2 losses
  // branched on is exactly what the search without losses sees.
  const seen = (o: { drops: number; lossAsDelay?: boolean; ignoredStay: boolean }) => {
    const configurations = new Set<string>();
    const r = checkStateSpace({
      ...pingPong(3, 2),
      ...o,
      monitor: { initial: 0, sent: (count: number) => count + 1 },
      always: ({ states, monitor }) => void configurations.add(canonical({ states, monitor })),
    });
    return { r, configurations: [...configurations].sort() };
  };
  for (const ignoredStay of [false, true]) {
    const none = seen({ drops: 0, ignoredStay });
    const subsumed = seen({ drops: 2, lossAsDelay: true, ignoredStay });
    t.match(none.r, { exhausted: true, lossesSubsumed: false });
    t.match(subsumed.r, { exhausted: true, lossesSubsumed: true, states: none.r.states, transitions: none.r.transitions });
    for (const drops of [1, 2]) {
      const literal = seen({ drops, ignoredStay });
      t.match(literal.r, { exhausted: true, lossesSubsumed: false });
      t.ok(literal.r.states > none.r.states, `${literal.r.states} states with ${drops} losses branched on, ${none.r.states} without`);
      t.same(literal.configurations, subsumed.configurations, `≤${drops} losses, ignoredStay ${ignoredStay}: the same configurations`);
    }
  }
  // The network is what losses change: an invariant that reads it is refused, not proven.
  t.throws(
    () => checkStateSpace({ ...pingPong(2), drops: 1, lossAsDelay: true, always: ({ network }) => void network.length }),
    /reads the network/,
  );
  t.match(checkStateSpace({ ...pingPong(2), drops: 1, always: ({ network }) => void network.length }), {
    states: 9,
    lossesSubsumed: false,
  });
});

t.test('canonical serialization ignores the order of keys, entries and members', async (t) => {
  t.equal(canonical({ a: 1, b: [2, { c: 3 }] }), canonical({ b: [2, { c: 3 }], a: 1 }));
  t.equal(
    canonical(
      new Map([
        [1, 'x'],
        [2, 'y'],
      ]),
    ),
    canonical(
      new Map([
        [2, 'y'],
        [1, 'x'],
      ]),
    ),
  );
  t.equal(canonical(new Set([3, 1])), canonical(new Set([1, 3])));
  t.not(canonical([1, 2]), canonical([2, 1]));
  t.not(canonical(undefined), canonical(null));
  t.not(canonical('1'), canonical(1));
  t.equal(canonical(Infinity), 'Infinity');
  t.throws(() => canonical({ f: () => 1 }), /function/);
});
