// The world barrier's sleeping flags (runtime/protocol/thread-rings.ts, used by barrierShared in
// runtime/collectives.ts): a rank flags itself asleep in the barrier of one generation, and the
// last to arrive at that barrier, or the sleeper itself, clears the flag; whoever clears it decides
// whether a release message is sent. The steps are interleaved here by hand, as threads may run them.
import t from 'tap';
import { barrierMemory, clearAsleep, flagAsleep, GENERATION, SLEEPER_BASE } from '../../runtime/protocol/thread-rings.ts';

const memory = (): Int32Array => new Int32Array(barrierMemory(3, true));

t.test('a rank already asleep in the next barrier is not taken by the last to arrive at the one before', async (t) => {
  const m = memory();
  const g = Atomics.load(m, GENERATION);
  // The last to arrive at barrier g releases it (bumps the generation), then loses its core before
  // it reads the flags; rank 1, released, enters barrier g + 1, spins its budget out, and sleeps.
  Atomics.add(m, GENERATION, 1);
  flagAsleep(m, 1, g + 1);
  t.notOk(clearAsleep(m, 1, g), 'the last to arrive at g leaves the flag alone: no message from g');
  t.not(Atomics.load(m, SLEEPER_BASE + 1), 0, 'rank 1 still sleeps in g + 1');
  t.ok(clearAsleep(m, 1, g + 1), 'the last to arrive at g + 1 clears it and sends the release');
  t.equal(Atomics.load(m, SLEEPER_BASE + 1), 0);
});

t.test('in one barrier, the flag is cleared once: by the last to arrive or by the sleeper', async (t) => {
  const m = memory();
  flagAsleep(m, 2, 7);
  t.ok(clearAsleep(m, 2, 7), 'the last to arrive clears it first: it sends the message');
  t.notOk(clearAsleep(m, 2, 7), 'the sleeper, seeing the new generation, finds it cleared: it waits for the message');
  flagAsleep(m, 2, 8);
  t.ok(clearAsleep(m, 2, 8), 'the sleeper clears it first: released without a message');
  t.notOk(clearAsleep(m, 2, 8), 'and the last to arrive sends none');
});

t.test('the flags of consecutive generations differ and are never 0, across the wrap of the counter', async (t) => {
  for (const g of [0, 1, 0x3fffffff, 0x7fffffff, -0x80000000, -1]) {
    const m = memory();
    flagAsleep(m, 0, g);
    t.not(Atomics.load(m, SLEEPER_BASE), 0, `generation ${g}: flagged`);
    const next = (g + 1) | 0;
    t.notOk(clearAsleep(m, 0, next), `generation ${g}: not the flag of ${next}`);
    t.notOk(clearAsleep(m, 0, (g - 1) | 0), `generation ${g}: nor of the one before`);
    t.ok(clearAsleep(m, 0, g), `generation ${g}: its own`);
  }
});
