// The autoscaler's decision at the book's thresholds (8.4.1; spec 2.7: the original had a gap at 75).
import t from 'tap';
import {
  bandOf,
  checkPolicy,
  decide,
  defaultPolicy,
  formatDecision,
  initialScaleState,
  type ScalePolicy,
  type ScaleState,
} from '../../algorithms/autoscaler/decision.ts';
import { meanLoad, parseProcStat, scriptedSampler } from '../../algorithms/autoscaler/load-sampler.ts';

const p: ScalePolicy = {
  ...defaultPolicy,
  minWorkers: 1,
  maxWorkers: 4,
  patience: 1,
  cooldown: 0,
};

t.test('bands: contiguous at 25 and 75, no gap', async (t) => {
  t.equal(bandOf(0, p), 'low');
  t.equal(bandOf(24.999, p), 'low');
  t.equal(bandOf(25, p), 'hold', '25 itself is in the dead band');
  t.equal(bandOf(74.999, p), 'hold');
  t.equal(bandOf(75, p), 'high', 'exactly 75 scales up (the book matched no branch)');
  t.equal(bandOf(100, p), 'high');
});

t.test('decisions at the boundaries, within min and max', async (t) => {
  const s = initialScaleState;
  t.equal(decide(s, 75, 2, p).delta, 1);
  t.equal(decide(s, 74.9, 2, p).delta, 0);
  t.equal(decide(s, 25, 2, p).delta, 0);
  t.equal(decide(s, 24.9, 2, p).delta, -1);
  t.equal(decide(s, 99, 4, p).delta, 0, 'at max: hold');
  t.equal(decide(s, 1, 1, p).delta, 0, 'at min: hold');
  t.equal(decide(s, 50, 0, p).delta, 1, 'below min: refill whatever the load');
  t.equal(decide(s, NaN, 2, p).delta, 0, 'no reading: hold');
  t.equal(decide(s, 90, 1, { ...p, step: 3 }).delta, 3);
  t.equal(decide(s, 90, 3, { ...p, step: 3 }).delta, 1, 'step capped by max');
});

t.test('hysteresis: patience in a row, reset by the dead band; cooldown after acting', async (t) => {
  const q: ScalePolicy = { ...p, patience: 2, cooldown: 2 };
  const run = (loads: number[], active = 2): number[] => {
    let s: ScaleState = initialScaleState;
    return loads.map((l) => {
      const d = decide(s, l, active, q);
      s = d.state;
      return d.delta;
    });
  };
  t.same(run([80, 50, 80, 50]), [0, 0, 0, 0], 'a spike at a time never scales');
  t.same(run([80, 80]), [0, 1], 'two in a row do');
  t.same(run([80, 80, 80, 80, 80]), [0, 1, 0, 0, 1], 'held for the cooldown, then acts again');
  t.same(run([10, 80, 10, 80]), [0, 0, 0, 0], 'flapping between bands never acts');
  t.same(run([20, 20, 20]), [0, -1, 0]);
});

t.test('log line, policy check, samplers', async (t) => {
  t.equal(formatDecision(82.04, 3, 1), 'load=82.0 active=3 decision=+1');
  t.equal(formatDecision(10, 3, -2), 'load=10.0 active=3 decision=-2');
  t.equal(formatDecision(50, 3, 0), 'load=50.0 active=3 decision=hold');
  t.throws(() => checkPolicy({ ...p, lowPercent: 80 }), RangeError);
  t.throws(() => checkPolicy({ ...p, minWorkers: 5 }), RangeError);
  t.same(parseProcStat('cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3 4\n'), [150, 1000]);
  t.equal(parseProcStat('nothing'), undefined);
  t.equal(
    meanLoad([
      { host: 'a', busyPercent: 20 },
      { host: 'b', busyPercent: 60 },
    ]),
    40,
  );
  const s = scriptedSampler([90, 10]);
  t.same(
    [s.sample(), s.sample(), s.sample()].map((h) => (h as Array<{ busyPercent: number }>)[0].busyPercent),
    [90, 10, 10],
  );
});
