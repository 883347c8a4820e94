// The swarm fuzzer's engine on toy targets with planted bugs: it finds them, shrinks the schedule to
// the one fault that matters, replays it exactly, and reports faults outside the model without failing.
import t from 'tap';
import { ANY_SOURCE, ErrorCode, isDsError, type Communicator } from 'dsmpi';
import { FAULT_KINDS, fuzz, kindsOf, mergeReports, normalize, runCase, tableRow, type FaultSchedule, type FuzzTarget } from 'dsmpi/fuzz';

/** Rank 0 sends one message to every other rank, which waits for it for ever: hangs under loss. */
async function fragile(comm: Communicator): Promise<number> {
  if (comm.rank === 0) {
    for (let r = 1; r < comm.size; r++) await comm.send(r, r, 1);
    return 0;
  }
  return (await comm.recv<number>(0, 1)).data;
}

/** Waits for one message per peer with a timeout: never hangs, but "decides" a wrong value when one is lost. */
async function careless(comm: Communicator): Promise<number> {
  for (let r = 0; r < comm.size; r++) if (r !== comm.rank) await comm.send(comm.rank, r, 1);
  let sum = comm.rank;
  for (let i = 1; i < comm.size; i++) {
    try {
      sum += (await comm.recv<number>(ANY_SOURCE, 1, { timeoutMs: 50 })).data;
    } catch (err) {
      if (!isDsError(err, ErrorCode.Timeout)) throw err;
    }
  }
  return sum;
}

const base = { minN: 1, maxN: 6, horizonMs: 20, livenessMs: () => 1_000 };
const quiet: FaultSchedule = { n: 3, seed: 1, noisyForMs: 0, partitions: [], crashes: [], pauses: [] };

const hangs: FuzzTarget<number> = {
  ...base,
  name: 'hangs-under-loss',
  family: 'other',
  tolerates: FAULT_KINDS,
  setup: () => ({ main: fragile, check: () => undefined }),
};

const wrongSum: FuzzTarget<number> = {
  ...base,
  name: 'wrong-sum',
  family: 'other',
  tolerates: ['loss', 'delay', 'reordering'],
  setup: (n) => ({
    main: careless,
    check(r) {
      const want = (n * (n - 1)) / 2;
      r?.results.forEach((x, rank) => {
        if (x !== undefined && x !== want) throw new Error(`rank ${rank} summed ${x}, not ${want}`);
      });
    },
  }),
};

t.test('a liveness bug is found and shrunk to the faults that matter, at the smallest n', async (t) => {
  const report = await fuzz(hangs, { seeds: 40, first: 1 });
  t.ok(report.inModel.liveness > 0, `${report.inModel.liveness} liveness failures in ${report.seeds} seeds`);
  t.equal(report.inModel.safety, 0);
  const f = report.failures.find((x) => x.inModel)!;
  t.equal(f.verdict, 'liveness');
  const s = f.schedule;
  const kinds = kindsOf(s);
  t.ok(kinds.length <= 2, `at most two kinds are left: ${JSON.stringify(s)}`);
  t.ok(
    kinds.some((k) => ['loss', 'partition', 'one-way-partition'].includes(k)),
    'one of them loses messages',
  );
  t.equal(s.n, 2, 'two ranks are enough');
  t.match(f.message, /deadlock/);
  const again = await runCase(hangs, s);
  t.equal(again.verdict, 'liveness', 'the shrunk schedule replays to the same failure');
  t.same(normalize(s), s, 'printed schedules are normal');
});

t.test('a safety bug is found and shrunk; the same seeds give the same report in one process', async (t) => {
  const a = await fuzz(wrongSum, { seeds: 30, first: 100 });
  t.ok(a.inModel.safety > 0, `${a.inModel.safety} violations`);
  const f = a.failures.find((x) => x.inModel)!;
  t.match(f.message, /summed/);
  t.ok(kindsOf(f.schedule).includes('loss'));
  t.ok(kindsOf(f.schedule).length <= 2, `few kinds left: ${kindsOf(f.schedule).join(', ')}`);
  const b = await fuzz(wrongSum, { seeds: 30, first: 100 });
  t.same(b, a, 'fuzzing replays: same schedules, same verdicts, same shrinks');
});

t.test('faults outside the model are run, labelled and counted, but never fail the target', async (t) => {
  const r = await fuzz(wrongSum, { seeds: 40, first: 7, shrink: false });
  t.ok(r.outOfModel.runs > 0, `${r.outOfModel.runs} runs outside the model`);
  t.ok(r.inModel.runs > r.outOfModel.runs, 'most runs stay inside the model');
  t.ok(r.outOfModel.kinds.some((k) => !wrongSum.tolerates.includes(k)));
  for (const f of r.failures.filter((x) => !x.inModel)) t.match(f.outside, /outside the model/);
  const o = await runCase(wrongSum, { ...quiet, crashes: [{ rank: 1, atMs: 0 }] });
  t.equal(o.inModel, false);
  t.match(o.outside, /crash-stop outside the model/);
});

t.test('liveness is measured from the stabilization time: the last heal, restart or resume', async (t) => {
  // Every rank takes 20 ms before it exchanges, so faults at 1..10 ms land while it runs.
  const slowly = async (comm: Communicator): Promise<number> => {
    await comm.clock.sleep(20);
    return careless(comm);
  };
  const slow: FuzzTarget<number> = { ...hangs, setup: () => ({ main: slowly, check: () => undefined }) };
  const o = await runCase(slow, {
    ...quiet,
    partitions: [{ side: [0], atMs: 0, forMs: 200, oneWay: false }],
    pauses: [{ rank: 2, atMs: 10, forMs: 300 }],
  });
  t.equal(o.verdict, 'ok');
  t.equal(o.stabilizedMs, 310, 'the pause ends last');
  t.ok(o.afterStabilizationMs < 100, `rank 2 finishes soon after it resumes: ${o.afterStabilizationMs} ms`);
  // Rank 1 is down when the others send to it at 20 ms; back at 25 ms, it waits 50 ms for each of them.
  const late = await runCase({ ...slow, livenessMs: () => 30 }, { ...quiet, crashes: [{ rank: 1, atMs: 20, restartAfterMs: 5 }] });
  t.equal(late.stabilizedMs, 25, 'the restart');
  t.ok(late.afterStabilizationMs >= 30, `the restarted rank has not ended ${late.afterStabilizationMs} ms after it`);
  t.equal(late.verdict, 'liveness');
  t.match(late.message, /the bound is 30 ms/);
});

t.test('a campaign run in chunks merges into the report of one run over all its seeds', async (t) => {
  const whole = await fuzz(wrongSum, { seeds: 60, first: 1, shrink: false });
  const chunks = [
    await fuzz(wrongSum, { seeds: 25, first: 36, shrink: false }),
    await fuzz(wrongSum, { seeds: 35, first: 1, shrink: false }),
  ];
  const merged = mergeReports(chunks);
  t.ok(whole.failures.filter((f) => f.inModel).length > 1, 'failures in both chunks');
  t.ok(
    whole.failures.some((f) => !f.inModel),
    'and examples outside the model',
  );
  t.same(merged, whole, 'the same tallies, times, kinds and failures (the first examples outside the model)');
  t.equal(tableRow(merged), tableRow(whole), 'the same table row');
  t.throws(() => mergeReports([whole, { ...whole, target: 'hangs-under-loss' }]), /do not merge/);
});
