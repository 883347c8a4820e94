// One time line for every process of a machine (runtime/protocol/epoch-clock.ts): processes started
// at once on a loaded machine read the same epoch time at the same instant. The instant is one of
// the machine's monotonic clock, which the kernel keeps the same for every process: each process
// reports its clock minus the monotonic clock (test/fixtures/clock-reader.ts), and two processes
// agree at every common instant when those differences agree.
import { spawn, type ChildProcess } from 'node:child_process';
import t from 'tap';
import type { Test } from 'tap';
import { dsrun, root } from '../helpers/dsrun.ts';
import { clockAnchorText, epochMs, epochOffsetMs, parseClockAnchor } from '../../runtime/protocol/epoch-clock.ts';
import { offsetFromMonotonic, performanceEpochMs } from '../helpers/clock-offset.ts';

const READERS = 12;
/** A handed anchor: the processes share it, so only float rounding and the readings' gaps remain. */
const HANDED_TOLERANCE_MS = 0.01;
/** A measured anchor: within microseconds unless the scheduler interrupts every tick the measurement sees. */
const MEASURED_TOLERANCE_MS = 2;

interface Reading {
  epoch: number;
  performance: number;
}

/** Busy loops, one per core, while the readers start (the load under which timeOrigin goes wrong). */
function burners(): ChildProcess[] {
  return [0, 1].map(() => spawn(process.execPath, ['-e', 'for (;;);'], { stdio: 'ignore' }));
}

function reader(anchor: string | undefined): ChildProcess {
  const env = { ...process.env };
  delete env.DSMPI_CLOCK_ANCHOR;
  if (anchor !== undefined) env.DSMPI_CLOCK_ANCHOR = anchor;
  return spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/clock-reader.ts'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** A reader's exit code and output; killed if it has not ended within `limitMs`. */
function collect(child: ChildProcess, limitMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts one reader per anchor at once, under load, and waits for their readings (bounded). */
async function readAll(t: Test, anchors: (string | undefined)[]): Promise<{ reading: Reading; stderr: string }[]> {
  const load = burners();
  t.teardown(() => load.forEach((b) => b.kill('SIGKILL')));
  const children = anchors.map(reader);
  t.teardown(() => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL')));
  const results = await Promise.all(
    children.map(async (child) => {
      const r = await collect(child, 120_000);
      t.equal(r.code, 0, `reader exits 0 (stderr: ${r.stderr})`);
      return { reading: JSON.parse(r.stdout.trim()) as Reading, stderr: r.stderr };
    }),
  );
  load.forEach((b) => b.kill('SIGKILL'));
  return results;
}

/** How far each reader's clocks are from this process's at a common instant, and the largest of each. */
function compare(t: Test, results: { reading: Reading }[]): number[] {
  const mine = { epoch: offsetFromMonotonic(epochMs), performance: offsetFromMonotonic(performanceEpochMs) };
  const largest = (key: keyof Reading): string => Math.max(...results.map((r) => Math.abs(r.reading[key] - mine[key]))).toFixed(4);
  t.comment(`epochMs(): at most ${largest('epoch')} ms from this process's; performance.timeOrigin + now(): ${largest('performance')} ms`);
  return results.map((r) => r.reading.epoch - mine.epoch);
}

t.test(`${READERS} processes started at once under load read this process's time line`, async (t) => {
  // Even readers get this process's anchor, as dsrun's ranks do; odd ones measure their own.
  const handed = (i: number): boolean => i % 2 === 0;
  const results = await readAll(
    t,
    Array.from({ length: READERS }, (_, i) => (handed(i) ? clockAnchorText() : undefined)),
  );
  const off = compare(t, results);
  for (const [i, d] of off.entries()) {
    const tolerance = handed(i) ? HANDED_TOLERANCE_MS : MEASURED_TOLERANCE_MS;
    t.ok(
      Math.abs(d) <= tolerance,
      `reader ${i} (${handed(i) ? 'handed' : 'measured'} anchor): ${d.toFixed(4)} ms from this process's time`,
    );
  }
  for (const r of results) t.equal(r.stderr, '', 'nothing said about the anchor');
});

t.test("an anchor that is not a number or not this machine's: the process says why and measures its own", async (t) => {
  const foreign = String(Number(clockAnchorText()) + 3_600_000);
  const results = await readAll(t, ['soon', foreign]);
  const off = compare(t, results);
  t.match(results[0].stderr, /DSMPI_CLOCK_ANCHOR='soon' is not a number; this process measures its own clock anchor/);
  t.match(results[1].stderr, /puts now 3600\.0 s away from this machine's clock: it is not this machine's anchor/);
  for (const d of off)
    t.ok(Math.abs(d) <= MEASURED_TOLERANCE_MS, `its time is still the machine's (${d.toFixed(4)} ms from this process's)`);
});

for (const mode of ['processes', 'threads']) {
  t.test(`dsrun's ranks (${mode}) read one time line: the anchor dsrun hands them`, async (t) => {
    const r = await dsrun(['-n', '4', ...(mode === 'threads' ? ['--threads'] : []), 'test/fixtures/rank-clock.ts'], { limitMs: 120_000 });
    t.equal(r.code, 0, r.stderr);
    const ranks = r.stdout
      .split('\n')
      .filter((line) => line.includes('{'))
      .map((line) => JSON.parse(line.slice(line.indexOf('{'))) as { rank: number; anchor: string; epoch: number });
    t.same(ranks.map((x) => x.rank).sort(), [0, 1, 2, 3]);
    t.equal(new Set(ranks.map((x) => x.anchor)).size, 1, 'one anchor');
    t.ok(Number.isFinite(Number(ranks[0].anchor)), `a number: ${ranks[0].anchor}`);
    for (const x of ranks)
      t.ok(
        Math.abs(x.epoch - ranks[0].epoch) <= HANDED_TOLERANCE_MS,
        `rank ${x.rank}: ${(x.epoch - ranks[0].epoch).toFixed(4)} ms from rank ${ranks[0].rank}'s`,
      );
  });
}

t.test('parseClockAnchor', async (t) => {
  const mono = 5_000;
  const wall = 1_765_000_000_000;
  t.same(parseClockAnchor(String(wall - mono + 0.25), mono, wall), { anchorMs: wall - mono + 0.25 });
  t.same(parseClockAnchor(String(wall - mono - 999), mono, wall), { anchorMs: wall - mono - 999 });
  for (const text of ['', ' ', 'x', 'NaN', 'Infinity', '1e400'])
    t.match(parseClockAnchor(text, mono, wall), { reason: 'is not a number' }, text);
  t.match(parseClockAnchor(String(wall - mono + 1_500), mono, wall), { reason: /1\.5 s away/ });
});

t.test('epochOffsetMs: readings straddling a stall do not move the offset', async (t) => {
  // A clock read across preemptions: its first eight readings each stall 3 ms after reading the time
  // (as if the process lost the core there), so a single pair of readings is off by up to 3 ms.
  let calls = 0;
  const stalling = (): number => {
    const ms = performance.now();
    if (calls++ < 8) for (const end = ms + 3; performance.now() < end;);
    return ms;
  };
  const truth = Number(clockAnchorText()) - offsetFromMonotonic(() => performance.now());
  const offset = epochOffsetMs(stalling);
  t.ok(
    Math.abs(offset - truth) < 0.05,
    `offset ${offset.toFixed(4)}, from bracketed readings ${truth.toFixed(4)}: ${(offset - truth).toFixed(4)} ms apart`,
  );
});
