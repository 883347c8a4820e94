/**
 * What examples/collectives.ts must print, computed independently of it: each rank's line
 * "results <JSON>" (prefixed "[rank r] " unless --quiet) against the values the collectives must give.
 */
import type { Test } from 'tap';

/** What rank `r` of `n` must print, except the counter ticket (checked as a permutation). */
export function expectedResults(r: number, n: number): Record<string, unknown> {
  const ranks = Array.from({ length: n }, (_, i) => i);
  const mine = ranks.filter((i) => i % 2 === r % 2);
  return {
    rank: r,
    size: n,
    barrier: { arrived: n },
    bcast: 42,
    scatter: r * 10,
    gather: r === 0 ? ranks.map((i) => i * i) : null,
    allgather: ranks.map((i) => i + 1),
    reduce: r === 0 ? (n * (n + 1)) / 2 : null,
    allreduce: n - 1,
    alltoall: ranks.map((j) => j * 100 + r),
    scan: ((r + 1) * (r + 2)) / 2,
    exscan: r === 0 ? null : (r * (r + 1)) / 2,
    split: {
      color: r % 2,
      rank: mine.indexOf(r),
      size: mine.length,
      sum: mine.reduce((s, i) => s + i, 0),
    },
  };
}

/** Checks every rank's results line in `stdout` of an n-rank run, and that the counter handed out 0..n-1 once. */
export function checkCollectivesOutput(t: Test, stdout: string, n: number): void {
  const byRank = new Map<number, Record<string, unknown> & { counter: { ticket: number } }>();
  for (const m of stdout.matchAll(/^(?:\[rank \d+\] )?results (.*)$/gm)) {
    const got = JSON.parse(m[1]) as Record<string, unknown> & { rank: number; counter: { ticket: number } };
    t.notOk(byRank.has(got.rank), `rank ${got.rank} reports once`);
    byRank.set(got.rank, got);
  }
  t.same(
    [...byRank.keys()].sort((a, b) => a - b),
    Array.from({ length: n }, (_, i) => i),
    'every rank printed its results',
  );
  const tickets: number[] = [];
  for (const [rank, got] of byRank) {
    const { counter, ...rest } = got;
    t.same(rest, expectedResults(rank, n), `rank ${rank}`);
    tickets.push(counter.ticket);
  }
  t.same(
    tickets.sort((a, b) => a - b),
    Array.from({ length: n }, (_, i) => i),
    'fetchAndOp handed out each value 0..n-1 once',
  );
}
