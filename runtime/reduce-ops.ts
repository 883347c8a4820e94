import { DsError, ErrorCode } from './errors.ts';

/** Built-in reduction operators (MPI_SUM, MPI_PROD, MPI_MAX, MPI_MIN, MPI_LAND, MPI_LOR, MPI_BAND, MPI_BOR). */
export type ReduceOpName = 'sum' | 'prod' | 'max' | 'min' | 'land' | 'lor' | 'band' | 'bor';

/**
 * A user reduction `(a, b) => c`. It must be associative; it need not be commutative: dsmpi applies
 * it in rank order (a is the contribution of the lower ranks), as MPI does.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ReduceFn<T = any> = (a: T, b: T) => T;

/**
 * How a reduction combines contributions. Built-in operators work on numbers and, element-wise, on
 * arrays (nested arrays too) of equal length: `sum prod max min` on numbers; `land lor` on numbers
 * or booleans (booleans give booleans, numbers give 1 or 0); `band bor` on integers of 32 bits.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ReduceOp<T = any> = ReduceOpName | ReduceFn<T>;

export const REDUCE_OP_NAMES: readonly ReduceOpName[] = ['sum', 'prod', 'max', 'min', 'land', 'lor', 'band', 'bor'];

type Leaf = number | boolean;

const truth = (a: Leaf, b: Leaf, v: boolean): Leaf => (typeof a === 'boolean' && typeof b === 'boolean' ? v : v ? 1 : 0);

const scalar: Record<ReduceOpName, (a: Leaf, b: Leaf) => Leaf> = {
  sum: (a, b) => (a as number) + (b as number),
  prod: (a, b) => (a as number) * (b as number),
  max: (a, b) => Math.max(a as number, b as number),
  min: (a, b) => Math.min(a as number, b as number),
  land: (a, b) => truth(a, b, Boolean(a) && Boolean(b)),
  lor: (a, b) => truth(a, b, Boolean(a) || Boolean(b)),
  band: (a, b) => (a as number) & (b as number),
  bor: (a, b) => (a as number) | (b as number),
};

export function isReduceOpName(op: unknown): op is ReduceOpName {
  return typeof op === 'string' && Object.hasOwn(scalar, op);
}

/** The combining function of `op`; throws DS_ERR_INVALID_ARGUMENT at once for an unknown op. */
export function resolveOp(op: unknown, what: string): (a: unknown, b: unknown) => unknown {
  if (typeof op === 'function') return op as (a: unknown, b: unknown) => unknown;
  if (isReduceOpName(op)) return (a, b) => applyBuiltin(op, a, b);
  throw new DsError(
    ErrorCode.InvalidArgument,
    `${what}: unknown op ${describe(op)}; use one of ${REDUCE_OP_NAMES.map((n) => `'${n}'`).join(', ')} or a function (a, b) => c`,
  );
}

/** Checks one rank's contribution to a built-in op before any I/O (DS_ERR_INVALID_ARGUMENT). */
export function checkOperand(op: unknown, value: unknown, what: string): void {
  if (!isReduceOpName(op)) return;
  const problem = leafProblem(op, value, 'operand');
  if (problem) throw new DsError(ErrorCode.InvalidArgument, `${what}: ${problem}`);
}

/** Applies a built-in op to two operands, element-wise on arrays; throws DS_ERR_OP_FAILED on a misfit. */
export function applyBuiltin(op: ReduceOpName, a: unknown, b: unknown, path = 'operand'): unknown {
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b)) {
      throw new DsError(ErrorCode.OpFailed, `'${op}': ${path} is an array on one side and not on the other`);
    }
    if (a.length !== b.length) {
      throw new DsError(ErrorCode.OpFailed, `'${op}': ${path} has arrays of different lengths ${a.length} and ${b.length}`);
    }
    return a.map((x, i) => applyBuiltin(op, x, b[i], `${path}[${i}]`));
  }
  const problem = leafProblem(op, a, path) ?? leafProblem(op, b, path);
  if (problem) throw new DsError(ErrorCode.OpFailed, problem);
  return scalar[op](a as Leaf, b as Leaf);
}

function leafProblem(op: ReduceOpName, value: unknown, path: string): string | undefined {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = leafProblem(op, value[i], `${path}[${i}]`);
      if (p) return p;
    }
    return undefined;
  }
  switch (op) {
    case 'land':
    case 'lor':
      if (typeof value === 'number' || typeof value === 'boolean') return undefined;
      return `${path} is ${describe(value)}; '${op}' needs numbers or booleans (or arrays of them)`;
    case 'band':
    case 'bor':
      if (Number.isInteger(value) && (value as number) >= -0x80000000 && (value as number) <= 0x7fffffff) return undefined;
      return `${path} is ${describe(value)}; '${op}' needs integers in -2^31..2^31-1 (or arrays of them)`;
    default:
      if (typeof value === 'number') return undefined;
      return `${path} is ${describe(value)}; '${op}' needs numbers (or arrays of numbers)`;
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'function') return 'a function';
  if (value === null) return 'null';
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}
