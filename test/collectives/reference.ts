/**
 * Naive references for the differential tests of collectives: the obvious sequential definitions,
 * applied left to right in rank order.
 */

export type OpName = 'sum' | 'prod' | 'max' | 'min' | 'land' | 'lor' | 'band' | 'bor';
export const OP_NAMES: OpName[] = ['sum', 'prod', 'max', 'min', 'land', 'lor', 'band', 'bor'];

/** mulberry32: a tiny seeded generator for test data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randInt(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

function leaf(op: OpName, a: number | boolean, b: number | boolean): number | boolean {
  const bothBool = typeof a === 'boolean' && typeof b === 'boolean';
  const t = (v: boolean) => (bothBool ? v : v ? 1 : 0);
  switch (op) {
    case 'sum':
      return (a as number) + (b as number);
    case 'prod':
      return (a as number) * (b as number);
    case 'max':
      return (a as number) > (b as number) ? a : b;
    case 'min':
      return (a as number) < (b as number) ? a : b;
    case 'land':
      return t(!!a && !!b);
    case 'lor':
      return t(!!a || !!b);
    case 'band':
      return (a as number) & (b as number);
    case 'bor':
      return (a as number) | (b as number);
  }
}

export function applyRef(op: OpName | ((a: unknown, b: unknown) => unknown), a: unknown, b: unknown): unknown {
  if (typeof op === 'function') return op(a, b);
  if (Array.isArray(a)) return a.map((x, i) => applyRef(op, x, (b as unknown[])[i]));
  return leaf(op, a as number, b as number);
}

export function foldRef(op: OpName | ((a: unknown, b: unknown) => unknown), values: unknown[]): unknown {
  return values.slice(1).reduce((acc, v) => applyRef(op, acc, v), values[0]);
}

/** A random operand for `op`: a scalar, or an array of `len` scalars. */
export function operand(rand: () => number, op: OpName, len: number | undefined, bools: boolean): unknown {
  const one = (): number | boolean => {
    switch (op) {
      case 'sum':
        return randInt(rand, -1000, 1000);
      case 'prod':
        return randInt(rand, -9, 9);
      case 'max':
      case 'min':
        return randInt(rand, -1e6, 1e6);
      case 'land':
      case 'lor':
        return bools ? rand() < 0.7 : randInt(rand, 0, 3) === 0 ? 0 : randInt(rand, 1, 5);
      case 'band':
      case 'bor':
        return randInt(rand, 0, 0xffff);
    }
  };
  return len === undefined ? one() : Array.from({ length: len }, one);
}
