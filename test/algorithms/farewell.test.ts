// serve()'s farewell (algorithms/common/farewell.ts): a machine that declares its outcome is ended
// by serve(), which announces the outcome and leaves only once no rank is stranded without it.
import t from 'tap';
import { simulate, defineTags } from 'dsmpi';
import { defaultFarewell, startWithFarewell, withFarewell, type FarewellSpec } from '../../algorithms/common/farewell.ts';
import { serve, type Input, type Machine } from '../../algorithms/common/serve.ts';

const Tag = defineTags('farewell-test', ['Outcome']);

/** A toy protocol: rank 0 starts knowing the value; the others learn it from an announcement. */
interface Toy {
  value: number | undefined;
  steps: number;
}
const options = { ...defaultFarewell, periodMs: 10, lingerMs: 30 };
const spec: FarewellSpec<Toy> = {
  tag: Tag.Outcome,
  options: () => options,
  outcome: (s) => (s.value === undefined ? undefined : { value: s.value }),
  abandon: (s, failed) => {
    if (!failed.includes(0) || s.value === undefined) return false;
    s.value = undefined;
    return true;
  },
};
const toy: Machine<Toy> = {
  step(s, input) {
    s.steps++;
    if (input.type === 'message' && input.tag === Tag.Outcome) s.value ??= (input.data as { value: number }).value;
    return [s, []];
  },
  wakeAtMs: () => undefined,
  done: () => false,
  farewell: spec,
};

const tick = (nowMs: number, failed: number[] = []): Input => ({ type: 'tick', nowMs, random: 0, failed });
const announce = (source: number, nowMs: number, heard: number[]): Input => ({
  type: 'message',
  source,
  tag: Tag.Outcome,
  data: { value: 7, heard },
  nowMs,
  random: 0,
});

t.test('a rank that learns the outcome announces it to the others at its next tick, with whom it has heard', async (t) => {
  const m = withFarewell(toy, spec);
  const w = startWithFarewell(spec, { value: undefined, steps: 0 }, 1, 3, 0);
  t.equal(w.farewell, undefined, 'no outcome, no farewell');
  t.equal(m.wakeAtMs(w), undefined);
  const [, none] = m.step(w, announce(0, 5, [0]));
  t.same(none, [], 'nothing sent while taking the announcement');
  t.equal(w.state.value, 7, "the machine's own step took the outcome");
  t.same(w.farewell?.heard, [true, true, false], 'rank 0 announced, so it knows');
  t.same(w.farewell?.heardMe, [false, true, false], "rank 0's announcement did not name rank 1");
  t.equal(m.wakeAtMs(w), 5, 'the first announcement is due at once');
  const [, out] = m.step(w, tick(5));
  t.same(
    out.map((o) => [o.to, o.tag, o.data]),
    [
      [0, Tag.Outcome, { value: 7, heard: [0, 1] }],
      [2, Tag.Outcome, { value: 7, heard: [0, 1] }],
    ],
  );
  t.equal(m.done(w), false, 'rank 2 has not announced: it is waited for');
  m.step(w, announce(2, 8, [0, 1, 2]));
  m.step(w, announce(0, 9, [0, 1, 2]));
  m.step(w, tick(15));
  t.equal(w.farewell?.allHeardAtMs, 15, 'every rank knows, and has heard this one');
  t.equal(m.wakeAtMs(w), 25, 'the next announcement comes before the linger ends');
  m.step(w, tick(25));
  t.equal(m.done(w), false, 'still lingering');
  t.equal(m.wakeAtMs(w), 35);
  m.step(w, tick(45));
  t.equal(m.done(w), true, 'done once the linger is over');
});

t.test('an outcome known at the start was restored: the farewell starts at once, recovered', async (t) => {
  const w = startWithFarewell(spec, { value: 7, steps: 0 }, 0, 3, 4);
  t.equal(w.farewell?.recovered, true);
  t.equal(w.farewell?.sinceMs, 4);
});

t.test('an outcome the machine abandons at a tick stops the farewell until it knows one again', async (t) => {
  const m = withFarewell(toy, spec);
  const w = startWithFarewell(spec, { value: undefined, steps: 0 }, 1, 3, 0);
  m.step(w, announce(0, 1, [0]));
  const [, out] = m.step(w, tick(2, [0]));
  t.same(out, [], 'no announcement of a forgotten outcome');
  t.equal(w.farewell, undefined);
  t.equal(w.state.value, undefined);
  m.step(w, announce(2, 3, [2]));
  t.equal(w.farewell?.sinceMs, 3, 'a new farewell from the outcome learnt again');
});

t.test('under serve(), every rank ends knowing the outcome, and serve() returns the machine state', async (t) => {
  const r = await simulate({ n: 4, seed: 3, faults: { delay: { minMs: 0.1, maxMs: 5 }, drop: 0.1 } }, (c) =>
    serve(c, toy, { value: c.rank === 0 ? 7 : undefined, steps: 0 }),
  );
  t.same(
    r.results.map((s) => s?.value),
    [7, 7, 7, 7],
  );
  t.ok(r.results.every((s) => s!.steps > 0));
  const sent = r.trace.filter((e) => e.ev === 'send' && (e as { tag?: number }).tag === Tag.Outcome).length;
  t.ok(sent >= 3, `${sent} announcements sent`);
});
