import t from 'tap';
import { checkStaterightPaxos, linearizable, type History } from '../../algorithms/fuzz-targets/stateright-paxos.ts';

t.test("Stateright's Paxos example: the same number of unique states as Stateright's own test", async (t) => {
  const r = checkStaterightPaxos();
  // stateright examples/paxos.rs, can_model_paxos: assert_eq!(checker.unique_state_count(), 16_668)
  t.equal(r.states, 16_668);
  t.equal(r.exhausted, true);
  t.notOk(r.failure, 'every history is linearizable');
});

t.test("the port's linearizability check (Stateright's LinearizabilityTester)", async (t) => {
  const h = (byThread: History['byThread'], inFlight: History['inFlight'] = []): History => ({ byThread, inFlight, valid: true });
  // A read of the initial value while a write is in flight: linearizable (the read goes first).
  // (As in Stateright, a thread that invoked anything has an entry in byThread.)
  t.ok(
    linearizable(
      h(
        [
          [0, []],
          [1, [[[], { read: true }, { readOk: '\0' }]]],
        ],
        [[0, [[], { write: 'B' }]]],
      ),
    ),
  );
  // A read of B with no write of B anywhere: not.
  t.notOk(linearizable(h([[0, [[[], { read: true }, { readOk: 'B' }]]]])));
  // Thread 0 read B, then thread 1 wrote B after that read had completed: real time forbids it.
  t.notOk(
    linearizable(
      h(
        [
          [0, [[[], { read: true }, { readOk: 'B' }]]],
          [1, []],
        ],
        [[1, [[[0, 0]], { write: 'B' }]]],
      ),
    ),
  );
  // The write in flight may take effect before a concurrent read that returns it.
  t.ok(
    linearizable(
      h(
        [
          [0, [[[], { read: true }, { readOk: 'B' }]]],
          [1, []],
        ],
        [[1, [[], { write: 'B' }]]],
      ),
    ),
  );
  t.notOk(linearizable({ byThread: [], inFlight: [], valid: false }));
});
