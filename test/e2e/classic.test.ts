// Every classic-algorithm example under dsrun: exit code 0, each of its CHECK lines OK, and what it
// printed (entries, message counts, leaders, delivery orders, balances) checked here against what
// the algorithm must give, computed independently of the example's own checks.
import t, { type Test } from 'tap';
import { dsrun } from '../helpers/dsrun.ts';

/** The lines rank `rank` printed, without their prefix. */
const linesOf = (stdout: string, rank: number): string[] =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith(`[rank ${rank}] `))
    .map((l) => l.slice(`[rank ${rank}] `.length));

/** The one line of rank `rank` that matches `pattern`, as its match (fails the test without it). */
function line(t: Test, stdout: string, rank: number, pattern: RegExp): RegExpExecArray {
  const found = linesOf(stdout, rank)
    .map((l) => pattern.exec(l))
    .filter((m) => m !== null);
  t.equal(found.length, 1, `rank ${rank} prints one line like ${pattern}`);
  return found[0] ?? ([] as unknown as RegExpExecArray);
}

const ranks = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** A mutual-exclusion report of rank 0: entries made and messages of each kind. */
function mutexReport(t: Test, stdout: string, n: number): { entries: number; counts: Record<string, number> } {
  const [, size, entries] = line(t, stdout, 0, /^.*: (\d+) ranks, (\d+) entries$/).map(Number);
  t.equal(size, n, 'the report covers every rank');
  const [, total, kinds] = line(t, stdout, 0, /^messages: (\d+) \((.*)\)$/);
  const counts = Object.fromEntries((kinds ?? '').split(', ').map((kv) => [kv.split(' ')[0], Number(kv.split(' ')[1])]));
  t.equal(
    Object.values(counts).reduce((s, x) => s + x, 0),
    Number(total),
    'the kinds add up to the total',
  );
  return { entries, counts };
}

/** Per example: what its output must show, beyond the example's own CHECK lines. */
const expectations: Record<string, (t: Test, stdout: string, n: number) => void> = {
  'central-mutex': (t, stdout, n) => {
    const { entries, counts } = mutexReport(t, stdout, n);
    t.equal(entries, (n - 1) * 3, 'every rank but the server enters 3 times');
    t.same(counts, { Request: entries, Grant: entries, Release: entries }, 'one Request, Grant and Release per entry');
  },
  'token-ring': (t, stdout, n) => {
    const { entries, counts } = mutexReport(t, stdout, n);
    t.equal(entries, n * 3, 'every rank enters 3 times');
    t.same(Object.keys(counts), ['Token'], 'only the token moves');
    // Each entry needs the token to come to its rank: 3 laps of the ring, less the start at rank 0.
    t.ok(counts.Token >= 3 * n - 1, `${counts.Token} token passes, at least 3 laps`);
  },
  'ricart-agrawala': (t, stdout, n) => {
    const { entries, counts } = mutexReport(t, stdout, n);
    t.equal(entries, n * 3, 'every rank enters 3 times');
    t.same(counts, { Request: entries * (n - 1), Ok: entries * (n - 1) }, 'N-1 Requests and N-1 Oks per entry');
  },
  'ring-election': (t, stdout, n) => {
    for (const r of ranks(n)) line(t, stdout, r, new RegExp(`^leader = ${n - 1}$`));
    t.match(stdout, /messages = 14 /, '3N-1 messages with the initiator next to the winner');
  },
  bully: (t, stdout, n) => {
    // The example's scenario: rank n-1 is down, rank n-2 crashes before announcing; the others follow n-3.
    for (const r of ranks(n - 2)) line(t, stdout, r, new RegExp(`^leader = ${n - 3}$`));
    for (const r of [n - 2, n - 1]) line(t, stdout, r, /^crashed$/);
  },
  'chandy-lamport': (t, stdout, n) => {
    let total = 0;
    for (const r of ranks(n)) {
      const [, balance, inFlight] = line(t, stdout, r, /^recorded balance (\d+), in flight to me (\d+) \(\d+ transfers\)$/).map(Number);
      total += balance + inFlight;
    }
    t.equal(total, 100 * n, 'the snapshot holds every rank’s starting 100, recorded or in flight');
  },
  'total-order-multicast': (t, stdout, n) => {
    const delivered = ranks(n).map((r) => line(t, stdout, r, /^delivered (.*) → balance ([\d.]+)$/));
    t.equal(new Set(delivered.map((m) => m[0])).size, 1, 'every rank delivered in the same order, to the same balance');
    const order = delivered[0][1].split(' ').map((s) => s.split('.').map(Number) as [number, number]);
    t.equal(order.length, 2 * n, 'two messages of each rank');
    const sorted = [...order].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    t.same(order, sorted, 'in (Lamport time, sender) order');
    // The bank: $1000, even ranks deposit $100, odd ranks add 1% (rounded to cents), in that order.
    const balance = order.reduce((b, [, sender]) => (sender % 2 === 0 ? b + 100 : Math.round(b * 1.01 * 100) / 100), 1000);
    t.equal(Number(delivered[0][2]), balance, `the balance of that order: ${balance}`);
  },
  'causal-broadcast': (t, stdout, n) => {
    const answer = (r: number): string => `${r === 0 ? 'Lunch?' : r % 2 === 1 ? 'Yes' : 'No'}(${r})`;
    const sent = ranks(n).flatMap((r) => [answer(r), `line 1 from ${r}(${r})`]);
    for (const r of ranks(n)) {
      const got = line(t, stdout, r, /^delivered (.*)$/)[1]?.split(', ') ?? [];
      t.same([...got].sort(), [...sent].sort(), `rank ${r} delivered every message once`);
      t.equal(got[0], 'Lunch?(0)', `rank ${r}: the question first (every other message follows it)`);
      for (const s of ranks(n)) {
        t.ok(got.indexOf(answer(s)) < got.indexOf(`line 1 from ${s}(${s})`), `rank ${r}: rank ${s}'s messages in its order`);
      }
    }
  },
  gossip: (t, stdout, n) => {
    const informed = line(t, stdout, 0, /^informed after each round: ([\d ]+)$/)[1]
      .split(' ')
      .map(Number);
    t.equal(informed[0], 1, 'rank 0 alone knows it at first');
    t.equal(informed.at(-1), n, 'everyone knows it at the end');
    t.ok(
      informed.every((k, i) => i === 0 || (k >= informed[i - 1] && k <= 2 * informed[i - 1])),
      `each round at most doubles the informed (fanout 1): ${informed.join(' ')}`,
    );
    t.ok(informed.at(-2)! < n, 'and stops once everyone knows it');
    line(t, stdout, 0, new RegExp(`^rounds to reach all ${n}: ${informed.length - 1} `));
  },
};

const runs: Array<[example: string, n: number, checks: number, extra?: RegExp]> = [
  ['central-mutex', 4, 2],
  ['token-ring', 4, 1],
  ['ricart-agrawala', 4, 2],
  ['maekawa', 9, 1, /V0=\{0,1,2,3,6\} .* V4=\{1,3,4,5,7\} .* V8=\{2,5,6,7,8\}/],
  ['ring-election', 5, 2],
  ['bully', 4, 1],
  ['chandy-lamport', 5, 3],
  ['cristian', 4, 1, /rtt 8, offset \+46, new time 156, error ±4/],
  ['berkeley', 4, 1, /average \+5 min, adjustments 5 15 -20 -115, 5:00 left out/],
  ['total-order-multicast', 4, 1],
  ['causal-broadcast', 3, 1],
  ['gossip', 8, 1],
];

// Two at a time: the machine has two cores.
t.jobs = 2;
for (const [example, n, checks, extra] of runs) {
  t.test(`dsrun -n ${n} examples/${example}.ts`, async (t) => {
    const r = await dsrun(['-n', String(n), '--timeout', '60', `examples/${example}.ts`], { limitMs: 90_000 });
    t.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n').filter((l) => l.includes('CHECK '));
    t.equal(lines.length, checks, `${checks} CHECK lines:\n${r.stdout}`);
    for (const l of lines) t.match(l, /: OK$/, l);
    if (extra) t.match(r.stdout, extra);
    expectations[example]?.(t, r.stdout, n);
  });
}
