// Logical clocks (book 3.2): the rules, the book's P1/P2/P3 scenario with the correct values (the
// book's worked example has slips, see docs/algorithms/lamport-clock.md), and the scenario over
// simulated messages for several n and faults.
import t from 'tap';
import assert from 'node:assert/strict';
import { LamportClock, lamportReceive } from '../../algorithms/clocks/lamport-clock.ts';
import { VectorClock, compareVectors, concurrent, happensBefore, vectorReceive } from '../../algorithms/clocks/vector-clock.ts';
import { replayScenario, runScenario } from '../../algorithms/clocks/scenario.ts';
import { forEachSeed } from '../helpers/run-ranks.ts';
import { simulate } from 'dsmpi';

const labels = (evs: { label: string; time: unknown }[]) => evs.map((e) => [e.label, e.time]);

t.test('Lamport rules: tick on events and sends, max then tick on receive (3.2.1)', async (t) => {
  const c = new LamportClock();
  t.equal(c.tick(), 1);
  t.equal(c.send(), 2);
  t.equal(c.receive(7), 8);
  t.equal(c.receive(3), 9, 'an older stamp still ticks');
  t.equal(lamportReceive(0, 3), 4, 'the receive is later than the send (the book gives 3)');
});

t.test('the book scenario, Lamport: correct values (book: P1.C 5, P2 3..6, P3 5..7)', async (t) => {
  const [p1, p2, p3] = replayScenario(3, () => new LamportClock());
  t.same(labels(p1), [
    ['A', 1],
    ['B', 2],
    ['Send(m)', 3],
    ['C', 4],
  ]);
  t.same(labels(p2), [
    ['Recv(m)', 4],
    ['B', 5],
    ['Send(n)', 6],
    ['C', 7],
  ]);
  t.same(labels(p3), [
    ['A', 1],
    ['Recv(n)', 7],
    ['B', 8],
    ['C', 9],
  ]);
});

t.test('the book scenario, vector clocks: correct values (book: P2 Recv [4,0,0], P3 Recv [4,2,1])', async (t) => {
  const [p1, p2, p3] = replayScenario(3, (r) => new VectorClock(r, 3));
  t.same(labels(p1), [
    ['A', [1, 0, 0]],
    ['B', [2, 0, 0]],
    ['Send(m)', [3, 0, 0]],
    ['C', [4, 0, 0]],
  ]);
  t.same(labels(p2), [
    ['Recv(m)', [3, 1, 0]],
    ['B', [3, 2, 0]],
    ['Send(n)', [3, 3, 0]],
    ['C', [3, 4, 0]],
  ]);
  t.same(labels(p3), [
    ['A', [0, 0, 1]],
    ['Recv(n)', [3, 3, 2]],
    ['B', [3, 3, 3]],
    ['C', [3, 3, 4]],
  ]);
  t.ok(happensBefore([3, 0, 0], [3, 1, 0]), 'Send(m) → Recv(m)');
  t.ok(concurrent([4, 0, 0], [3, 1, 0]), 'P1.C ∥ P2.Recv(m)');
  t.ok(concurrent([1, 0, 0], [0, 0, 1]), 'P1.A ∥ P3.A');
  t.ok(happensBefore([1, 0, 0], [3, 3, 4]), 'P1.A → P3.C (transitively)');
  t.equal(compareVectors([3, 3, 4], [1, 0, 0]), 'after');
  t.equal(compareVectors([1, 2], [1, 2]), 'equal');
  t.same(vectorReceive([0, 0, 1], [4, 2, 0], 2), [4, 2, 2], 'only the own slot is incremented');
  t.throws(() => compareVectors([1], [1, 2]));
});

t.test('clock condition on every n: a send is before its receive, in both clocks', async (t) => {
  for (const n of [1, 2, 3, 4, 7]) {
    const lam = replayScenario(n, () => new LamportClock());
    const vec = replayScenario(n, (r) => new VectorClock(r, n));
    for (let r = 0; r < n; r++) {
      const recv = lam[r].findIndex((e) => e.label.startsWith('Recv'));
      if (recv < 0) continue;
      const from = n === 1 ? 0 : r - 1;
      const send = lam[from].findIndex((e) => e.label.startsWith('Send'));
      t.ok(lam[from][send].time < lam[r][recv].time, `n=${n} rank ${r}: Lamport`);
      t.ok(happensBefore(vec[from][send].time, vec[r][recv].time), `n=${n} rank ${r}: vector`);
    }
  }
});

t.test('over simulated messages (delays, reordering, duplicates) the timestamps are the reference ones', async () => {
  for (const n of [1, 2, 3, 5]) {
    const lamRef = replayScenario(n, () => new LamportClock());
    const vecRef = replayScenario(n, (r) => new VectorClock(r, n));
    await forEachSeed(10, {}, async (seed) => {
      const faults = { delay: { minMs: 0.1, maxMs: 30 }, reorder: { probability: 0.3, maxMs: 20 }, duplicate: 0.2 };
      const r = await simulate({ n, seed, faults }, async (comm) => ({
        lam: await runScenario(comm, new LamportClock()),
        // On a duplicate communicator: a duplicated Lamport message must not be taken as the vector one.
        vec: await runScenario(await comm.dup(), new VectorClock(comm.rank, comm.size)),
      }));
      for (let rank = 0; rank < n; rank++) {
        assert.deepEqual(r.results[rank]!.lam, lamRef[rank], `n=${n} rank ${rank} Lamport`);
        assert.deepEqual(r.results[rank]!.vec, vecRef[rank], `n=${n} rank ${rank} vector`);
      }
    });
  }
});
