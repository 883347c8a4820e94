// The collective algorithms and public calls, on every size from 1 to 8 and with each algorithm
// family (the latency-optimal ones, binomial and 3-nomial trees): each result is checked against
// what the call means, computed here from the ranks' inputs; order-sensitive reductions (list
// concatenation) show that rank order is kept; nothing is left unreceived. Then the argument checks
// and the errors of a failing reduction function, with their messages. (test/collectives/
// differential.test.ts covers every built-in op; this file is the fast one mutation testing runs.)
import t from 'tap';
import { DsError, ErrorCode, runLocal, simulate, type Communicator } from 'dsmpi';

const SIZES = [1, 2, 3, 4, 5, 6, 7, 8];
const RADIXES = [undefined, 2, 3];

const concat = (a: unknown, b: unknown): unknown => [...(a as unknown[]), ...(b as unknown[])];
const ranksOf = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
/** The list of `r${i}` for the ranks i in [from, to). */
const tokens = (from: number, to: number): string[] =>
  ranksOf(to)
    .slice(from)
    .map((i) => `r${i}`);

/** Messages left unreceived on the communicator's collective context. */
function leftOver(c: Communicator): number {
  let count = 0;
  while (c.collective.matcher.take(-1, -1)) count++;
  return count;
}

/** What every call returns on rank `r` of `n`, computed from the inputs `program` gives. */
function expected(n: number, r: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const ranks = ranksOf(n);
  const sum = (n * (n + 1)) / 2;
  for (let root = 0; root < n; root++) {
    out[`bcast@${root}`] = { from: root };
    out[`scatter@${root}`] = `s${root}-${r}`;
    out[`gather@${root}`] = r === root ? ranks.map((i) => `g${i}`) : undefined;
    out[`reduce-concat@${root}`] = r === root ? tokens(0, n) : undefined;
    out[`reduce-sum@${root}`] = r === root ? sum : undefined;
  }
  Object.assign(out, {
    barrier: n,
    'bcast-default-root': 'from 0',
    'reduce-defaults': r === 0 ? sum : undefined,
    'allreduce-concat': tokens(0, n),
    'allreduce-sum': sum,
    'allreduce-default': sum,
    allgather: ranks.map((i) => `a${i}`),
    alltoall: ranks.map((i) => `${i}>${r}`),
    'scan-concat': tokens(0, r + 1),
    'scan-default': ((r + 1) * (r + 2)) / 2,
    'exscan-concat': r === 0 ? undefined : tokens(0, r),
    'exscan-default': r === 0 ? undefined : (r * (r + 1)) / 2,
    'left over': 0,
  });
  return out;
}

async function program(c: Communicator, arrived: number[]): Promise<Record<string, unknown>> {
  const { rank: r, size: n } = c;
  const out: Record<string, unknown> = {};
  // The last rank arrives late; no rank may leave the barrier before everyone has arrived.
  if (r === n - 1) await c.clock.sleep(10);
  arrived[0]++;
  await c.barrier();
  out.barrier = arrived[0];
  await c.barrier();
  for (let root = 0; root < n; root++) {
    out[`bcast@${root}`] = await c.bcast(r === root ? { from: root } : () => 'not sent: only the root sends', root);
    out[`scatter@${root}`] = await c.scatter(r === root ? ranksOf(n).map((i) => `s${root}-${i}`) : undefined, root);
    out[`gather@${root}`] = await c.gather(`g${r}`, root);
    out[`reduce-concat@${root}`] = await c.reduce([`r${r}`], concat, root);
    out[`reduce-sum@${root}`] = await c.reduce(r + 1, 'sum', root);
  }
  out['bcast-default-root'] = await c.bcast(r === 0 ? 'from 0' : undefined);
  out['reduce-defaults'] = await c.reduce(r + 1);
  out['allreduce-concat'] = await c.allreduce([`r${r}`], concat);
  out['allreduce-sum'] = await c.allreduce(r + 1, 'sum');
  out['allreduce-default'] = await c.allreduce(r + 1);
  out.allgather = await c.allgather(`a${r}`);
  out.alltoall = await c.alltoall(ranksOf(n).map((j) => `${r}>${j}`));
  out['scan-concat'] = await c.scan([`r${r}`], concat);
  out['scan-default'] = await c.scan(r + 1);
  out['exscan-concat'] = await c.exscan([`r${r}`], concat);
  out['exscan-default'] = await c.exscan(r + 1);
  await c.barrier();
  out['left over'] = leftOver(c);
  return out;
}

for (const collectiveRadix of RADIXES) {
  t.test(`every collective on 1 to 8 ranks, radix ${collectiveRadix ?? 'none'}: what the call means`, async (t) => {
    const wrong: string[] = [];
    for (const n of SIZES) {
      const arrived = [0];
      const results = await runLocal({ n, collectiveRadix }, (c) => program(c, arrived));
      for (let r = 0; r < n; r++) {
        const want = expected(n, r);
        for (const key of Object.keys(want)) {
          if (JSON.stringify(results[r][key]) !== JSON.stringify(want[key]))
            wrong.push(`n=${n} rank ${r} ${key}: got ${JSON.stringify(results[r][key])}, want ${JSON.stringify(want[key])}`);
        }
      }
    }
    t.same(wrong, []);
  });
}

/** The error `f` throws at once (fails the test if it returns). */
function thrown(f: () => unknown): DsError {
  try {
    f();
  } catch (err) {
    return err as DsError;
  }
  throw new Error('expected an error');
}

t.test('bad roots and chunk arrays throw at once, saying what is wrong', async (t) => {
  const [got] = await runLocal(3, async (c) => {
    const errors: Array<[string, string]> = [];
    const note = (f: () => unknown): void => {
      const err = thrown(f);
      errors.push([err.code, err.message]);
    };
    note(() => c.ibcast('x', 3));
    note(() => c.ibcast('x', -1));
    note(() => c.ireduce(1, 'sum', 1.5));
    note(() => c.igather(1, Number.NaN));
    note(() => c.iscatter(['a', 'b'], 5));
    if (c.rank === 0) {
      note(() => c.iscatter(['a', 'b'], 0));
      note(() => c.iscatter(null as unknown as string[], 0));
      note(() => c.ialltoall([[1], [2], [3], [4]]));
      note(() => c.ialltoall('abc' as unknown as string[]));
      note(() => c.ibcast(() => 1, 0));
      note(() => c.ireduce(1, 'nope' as 'sum'));
    }
    await c.barrier();
    return errors;
  });
  const rootError = (call: string, root: string): [string, string] => [
    ErrorCode.InvalidRank,
    `${call}: root ${root} is not a rank of this communicator; size is 3 (ranks 0..2)`,
  ];
  const chunks = (call: string, got: string): [string, string] => [
    ErrorCode.InvalidArgument,
    `${call}: needs an array of exactly 3 chunks (one per rank), got ${got}`,
  ];
  t.same(got.slice(0, 5), [
    rootError('bcast(root=3)', '3'),
    rootError('bcast(root=-1)', '-1'),
    rootError('reduce(op=sum, root=1.5)', '1.5'),
    rootError('gather(root=NaN)', 'NaN'),
    rootError('scatter(root=5)', '5'),
  ]);
  t.same(got.slice(5, 9), [
    chunks('scatter(root=0)', '2 chunks'),
    chunks('scatter(root=0)', 'null'),
    chunks('alltoall()', '4 chunks'),
    chunks('alltoall()', 'string'),
  ]);
  t.equal(got[9][0], ErrorCode.Unencodable, 'the root of a bcast sends plain data only');
  t.match(got[9][1], /^bcast\(root=0\): payload/);
  t.equal(got[10][0], ErrorCode.InvalidArgument);
  t.match(got[10][1], /^reduce\(op=nope, root=0\): unknown op 'nope'/);
});

t.test('a root 0 of size 1 and a root of the last rank are accepted', async (t) => {
  t.same(await runLocal(1, (c) => c.bcast('alone', 0)), ['alone']);
  t.same(await runLocal(2, (c) => c.gather(c.rank, 1)), [undefined, [0, 1]]);
});

/** How a call ended on each rank: its value, or the code and message of its error. */
async function outcome(p: Promise<unknown>): Promise<unknown> {
  try {
    return { value: await p };
  } catch (err) {
    return { code: (err as DsError).code, message: (err as DsError).message };
  }
}

t.test('a reduction function that throws fails the call on every rank that needs its result', async (t) => {
  const boom = (): never => {
    throw new Error('boom');
  };
  const failed = (what: string, why: string) => ({ code: ErrorCode.OpFailed, message: `${what}: ${why}` });
  for (const collectiveRadix of RADIXES) {
    const name = `radix ${collectiveRadix ?? 'none'}`;
    const results = await runLocal({ n: 5, collectiveRadix }, async (c) => ({
      allreduce: await outcome(c.allreduce([c.rank], boom)),
      reduce: await outcome(c.reduce([c.rank], boom, 2)),
      reduce0: await outcome(c.reduce([c.rank], boom, 0)),
      scan: await outcome(c.scan([c.rank], boom)),
      dsError: await outcome(
        c.allreduce(c.rank, () => {
          throw new DsError(ErrorCode.InvalidArgument, 'its own words');
        }),
      ),
      notAnError: await outcome(
        c.allreduce(c.rank, () => {
          throw 'a string';
        }),
      ),
      nothing: await outcome(
        c.allreduce(c.rank, () => {
          throw null;
        }),
      ),
      afterwards: await c.allreduce(c.rank, 'sum'),
    }));
    const threw = 'the reduction function threw: boom';
    for (const [r, got] of results.entries()) {
      t.same(
        got,
        {
          allreduce: failed('allreduce(op=function)', threw),
          reduce: r === 2 ? failed('reduce(op=function, root=2)', threw) : { value: undefined },
          reduce0: r === 0 ? failed('reduce(op=function, root=0)', threw) : { value: undefined },
          scan: r === 0 ? { value: [0] } : failed('scan(op=function)', threw),
          dsError: failed('allreduce(op=function)', 'its own words'),
          notAnError: failed('allreduce(op=function)', 'the reduction function threw: a string'),
          nothing: failed('allreduce(op=function)', 'the reduction function threw: null'),
          afterwards: 10,
        },
        `${name}, rank ${r}`,
      );
    }
  }
});

t.test('a reduction that fails on one rank only still fails everywhere its result goes', async (t) => {
  // Only rank 3's contribution is refused: the first failure travels with the partial results.
  const picky = (a: unknown, b: unknown): unknown => {
    if ([a, b].some((v) => Array.isArray(v) && v.includes(3))) throw new Error('no three');
    return concat(a, b);
  };
  for (const collectiveRadix of RADIXES) {
    const results = await runLocal({ n: 6, collectiveRadix }, async (c) => outcome(c.allreduce([c.rank], picky)));
    t.same(
      results,
      ranksOf(6).map(() => ({ code: ErrorCode.OpFailed, message: 'allreduce(op=function): the reduction function threw: no three' })),
      `radix ${collectiveRadix ?? 'none'}`,
    );
  }
});

// With every message taking exactly 1 ms of virtual time and sends costing none, a call lasts as
// many milliseconds as its longest chain of messages: a binomial tree's is its depth (virtual rank v
// is as many hops from the root as v has bits set), dissemination, Bruck and recursive doubling take
// ⌈log₂ p⌉ exchanges, and allreduce folds the ranks past a power of two in and out (at most 2 more).
const log2 = (p: number): number => Math.ceil(Math.log2(p));
const bits = (v: number): number => (v === 0 ? 0 : (v & 1) + bits(v >> 1));
const treeDepth = (p: number): number => Math.max(...ranksOf(p).map(bits));
const powerOfTwo = (p: number): boolean => Number.isInteger(Math.log2(p));
const ROUNDS: Array<[string, (p: number) => number, (c: Communicator) => Promise<unknown>]> = [
  ['barrier', log2, (c) => c.barrier()],
  ['bcast from the last rank', treeDepth, (c) => c.bcast(c.rank === c.size - 1 ? 'x' : undefined, c.size - 1)],
  ['reduce (sum) to the last rank', treeDepth, (c) => c.reduce(c.rank, 'sum', c.size - 1)],
  ['reduce (a function) to rank 0', treeDepth, (c) => c.reduce([c.rank], concat, 0)],
  [
    'reduce (a function) to the last rank: to rank 0, then forwarded',
    (p) => treeDepth(p) + 1,
    (c) => c.reduce([c.rank], concat, c.size - 1),
  ],
  ['gather to rank 1', treeDepth, (c) => c.gather(c.rank, 1)],
  ['scatter from rank 1', treeDepth, (c) => c.scatter(c.rank === 1 ? ranksOf(c.size) : undefined, 1)],
  ['allgather', log2, (c) => c.allgather(c.rank)],
  ['alltoall', () => 1, (c) => c.alltoall(ranksOf(c.size))],
  ['scan', log2, (c) => c.scan(c.rank)],
  ['exscan', log2, (c) => c.exscan(c.rank)],
];

/** Virtual milliseconds `call` lasts on p ranks whose every message takes 1 ms. */
async function lasts(p: number, call: (c: Communicator) => Promise<unknown>): Promise<number> {
  return (await simulate({ n: p, seed: 1, faults: { delay: { minMs: 1, maxMs: 1 } } }, call)).timeMs;
}

t.test('each algorithm takes exactly its rounds of messages', async (t) => {
  const wrong: string[] = [];
  for (let p = 2; p <= 8; p++) {
    for (const [name, rounds, call] of ROUNDS) {
      const ms = await lasts(p, call);
      if (ms !== rounds(p)) wrong.push(`${name} at p = ${p}: ${ms} ms, not ${rounds(p)}`);
    }
    const allreduce = await lasts(p, (c) => c.allreduce(c.rank, 'sum'));
    const ok = powerOfTwo(p) ? allreduce === log2(p) : allreduce > log2(p) - 1 && allreduce <= log2(p) + 2;
    if (!ok) wrong.push(`allreduce at p = ${p}: ${allreduce} ms`);
  }
  t.same(wrong, []);
});
