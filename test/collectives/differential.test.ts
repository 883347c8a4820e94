import t from 'tap';
import { runLocal, waitAll, type Communicator } from 'dsmpi';
import { foldRef, OP_NAMES, operand, prng, randInt, type OpName } from './reference.ts';

// Every collective and every op against a naive reference, n ∈ {1, 2, 3, 5, 8}, seeded random data.

t.setTimeout(30_000);

const SIZES = [1, 2, 3, 5, 8];
const SEEDS = [11, 29];
const concat = (a: unknown, b: unknown): unknown => [...(a as unknown[]), ...(b as unknown[])];

interface Case {
  name: string;
  op: OpName;
  /** operand of each rank */
  values: unknown[];
  root: number;
}

function randomValue(rand: () => number): unknown {
  return {
    id: randInt(rand, 0, 1e6),
    s: `v${randInt(rand, 0, 99)}`,
    list: [rand() < 0.5, null, randInt(rand, -5, 5)],
  };
}

function inputs(n: number, seed: number) {
  const rand = prng(seed * 1000 + n);
  const bcast = Array.from({ length: n }, () => randomValue(rand));
  const scatter = Array.from({ length: n }, () => Array.from({ length: n }, () => randomValue(rand)));
  const items = Array.from({ length: n }, () => randomValue(rand));
  const matrix = Array.from({ length: n }, () => Array.from({ length: n }, () => randInt(rand, 0, 1e6)));
  const tokens = Array.from({ length: n }, (_, r) => [`r${r}`, randInt(rand, 0, 9)]);
  const cases: Case[] = [];
  for (const op of OP_NAMES) {
    const shapes: Array<[string, number | undefined, boolean]> = [
      ['scalar', undefined, false],
      ['array', 3, false],
    ];
    if (op === 'land' || op === 'lor') shapes.push(['bool', undefined, true], ['boolarray', 4, true]);
    for (const [shape, len, bools] of shapes) {
      cases.push({
        name: `${op}/${shape}`,
        op,
        values: Array.from({ length: n }, () => operand(rand, op, len, bools)),
        root: randInt(rand, 0, n - 1),
      });
    }
  }
  return { bcast, scatter, items, matrix, tokens, cases };
}

async function program(c: Communicator, seed: number): Promise<Record<string, unknown>> {
  const { bcast, scatter, items, matrix, tokens, cases } = inputs(c.size, seed);
  const r = c.rank;
  const out: Record<string, unknown> = {};
  await c.barrier();
  for (let root = 0; root < c.size; root++) {
    out[`bcast@${root}`] = await c.bcast(r === root ? bcast[root] : undefined, root);
    out[`scatter@${root}`] = await c.scatter(r === root ? scatter[root] : undefined, root);
    out[`gather@${root}`] = await c.gather(items[r], root);
    out[`reduce-concat@${root}`] = await c.reduce(tokens[r], concat, root);
  }
  out.allgather = await c.allgather(items[r]);
  out.alltoall = await c.alltoall(matrix[r]);
  out['allreduce-concat'] = await c.allreduce(tokens[r], concat);
  out['scan-concat'] = await c.scan(tokens[r], concat);
  out['exscan-concat'] = await c.exscan(tokens[r], concat);
  for (const k of cases) {
    out[`reduce/${k.name}@${k.root}`] = await c.reduce(k.values[r], k.op, k.root);
    out[`allreduce/${k.name}`] = await c.allreduce(k.values[r], k.op);
    out[`scan/${k.name}`] = await c.scan(k.values[r], k.op);
    out[`exscan/${k.name}`] = await c.exscan(k.values[r], k.op);
  }
  // Non-blocking: all started at once; sequence numbers keep them apart.
  const last = c.size - 1;
  const started = [
    c.ibcast(r === last ? bcast[last] : undefined, last),
    c.iallreduce(tokens[r], concat),
    c.ireduce(cases[0].values[r], cases[0].op, last),
    c.igather(items[r], last),
    c.iscatter(r === 0 ? scatter[0] : undefined, 0),
    c.iallgather(items[r]),
    c.ialltoall(matrix[r]),
    c.ibarrier(),
  ];
  const [ib, iar, ired, ig, isc, iag, iat] = await waitAll<unknown>(started);
  Object.assign(out, { ib, iar, ired, ig, isc, iag, iat });
  return out;
}

function expected(n: number, seed: number, r: number): Record<string, unknown> {
  const { bcast, scatter, items, matrix, tokens, cases } = inputs(n, seed);
  const out: Record<string, unknown> = {};
  const ranks = Array.from({ length: n }, (_, i) => i);
  for (let root = 0; root < n; root++) {
    out[`bcast@${root}`] = bcast[root];
    out[`scatter@${root}`] = scatter[root][r];
    out[`gather@${root}`] = r === root ? items : undefined;
    out[`reduce-concat@${root}`] = r === root ? foldRef(concat, tokens) : undefined;
  }
  out.allgather = items;
  out.alltoall = ranks.map((i) => matrix[i][r]);
  out['allreduce-concat'] = foldRef(concat, tokens);
  out['scan-concat'] = foldRef(concat, tokens.slice(0, r + 1));
  out['exscan-concat'] = r === 0 ? undefined : foldRef(concat, tokens.slice(0, r));
  for (const k of cases) {
    out[`reduce/${k.name}@${k.root}`] = r === k.root ? foldRef(k.op, k.values) : undefined;
    out[`allreduce/${k.name}`] = foldRef(k.op, k.values);
    out[`scan/${k.name}`] = foldRef(k.op, k.values.slice(0, r + 1));
    out[`exscan/${k.name}`] = r === 0 ? undefined : foldRef(k.op, k.values.slice(0, r));
  }
  const last = n - 1;
  out.ib = bcast[last];
  out.iar = foldRef(concat, tokens);
  out.ired = r === last ? foldRef(cases[0].op, cases[0].values) : undefined;
  out.ig = r === last ? items : undefined;
  out.isc = scatter[0][r];
  out.iag = items;
  out.iat = ranks.map((i) => matrix[i][r]);
  return out;
}

// undefined: the latency-optimal algorithms; k: k-nomial trees (64, a star here, is what dsrun picks when ranks outnumber cores).
const RADIXES = [undefined, 2, 3, 64];

for (const n of SIZES) {
  for (const seed of SEEDS) {
    for (const collectiveRadix of RADIXES) {
      t.test(`n=${n} seed=${seed} radix=${collectiveRadix ?? 'none'}: every collective and op matches the reference`, async (t) => {
        const results = await runLocal({ n, seed, collectiveRadix }, (c) => program(c, seed));
        for (let r = 0; r < n; r++) {
          const want = expected(n, seed, r);
          const got = results[r];
          t.same(Object.keys(got).sort(), Object.keys(want).sort(), `rank ${r}: same cases`);
          const bad = Object.keys(want).filter((k) => JSON.stringify(got[k]) !== JSON.stringify(want[k]));
          t.same(bad, [], `rank ${r}: no case differs`);
          if (bad.length) t.comment(`rank ${r} ${bad[0]}: got ${JSON.stringify(got[bad[0]])}, want ${JSON.stringify(want[bad[0]])}`);
        }
      });
    }
  }
}
