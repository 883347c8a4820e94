import { DsError, ErrorCode } from './errors.ts';
import { InProgress } from './in-progress.ts';

/**
 * Payloads are plain data, what MessagePack carries faithfully: undefined, null, booleans, numbers
 * (-0 included), bigints of up to 64 bits, strings, Dates, byte arrays (Uint8Array/Buffer), arrays
 * and plain objects. Anything else (a function, a symbol, a Map or Set, a class instance, a typed
 * array other than bytes, a cycle, a larger bigint, a string with a lone surrogate, which UTF-8
 * cannot carry, a `__proto__` key, which a receiver cannot rebuild as a plain key) is refused with
 * DS_ERR_UNENCODABLE rather than silently altered.
 */
/** What an operation is, for error messages; a function when building the text would cost on a hot path. */
export type Describe = string | (() => string);

export const describe = (what: Describe): string => (typeof what === 'string' ? what : what());

export function assertPlainData(value: unknown, what: Describe): void {
  let problem: string | undefined;
  try {
    problem = findProblem(value);
  } finally {
    // Left full when it found a problem, or a getter threw.
    ancestors.clear();
  }
  if (problem !== undefined) {
    throw new DsError(
      ErrorCode.Unencodable,
      `${describe(what)}: payload${problem} cannot be sent; payloads are plain data ` +
        `(numbers, strings, booleans, null, arrays, plain objects, Uint8Array)`,
    );
  }
}

/** Whether a string has no lone surrogate, which UTF-8 cannot carry (String.prototype.isWellFormed, Node.js 20). */
const wellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/**
 * The arrays and objects findProblem is inside (a cycle comes back to one), the innermost last: one
 * for every check, since every send makes one, and not a Set, which a removal that empties it makes
 * V8 shrink by allocating a new table (in-progress.ts).
 */
const ancestors = new InProgress<object>();

/**
 * What is wrong with `value`, as the end of a sentence after its path: ` is a function`, with the
 * path of the offending part put in front as the search unwinds (`.a[2] is a function`), so a
 * payload with nothing wrong builds no string. Undefined if it is plain data.
 */
function findProblem(value: unknown): string | undefined {
  switch (typeof value) {
    case 'undefined':
    case 'boolean':
    case 'number':
      return undefined;
    case 'string':
      return wellFormed(value) ? undefined : ' is a string with a lone surrogate (not valid Unicode)';
    case 'bigint':
      return value < -(2n ** 63n) || value >= 2n ** 64n ? ' is a BigInt outside 64 bits' : undefined;
    case 'function':
      return ' is a function';
    case 'symbol':
      return ' is a symbol';
  }
  if (value === null || value instanceof Date || value instanceof Uint8Array) return undefined;
  const obj = value as object;
  if (ancestors.has(obj)) return ' is a cycle';
  if (Array.isArray(obj)) {
    ancestors.add(obj);
    for (let i = 0; i < obj.length; i++) {
      const p = findProblem(obj[i]);
      if (p !== undefined) return `[${i}]${p}`;
    }
    ancestors.delete(obj);
    return undefined;
  }
  const proto = Object.getPrototypeOf(obj);
  if (proto !== Object.prototype && proto !== null) {
    const name = (proto?.constructor as { name?: string } | undefined)?.name ?? 'unknown';
    return ` is a ${name} (not a plain object)`;
  }
  ancestors.add(obj);
  for (const key in obj) {
    if (key === '__proto__') return ' has a key __proto__';
    if (!wellFormed(key)) return ' has a key with a lone surrogate (not valid Unicode)';
    const p = findProblem((obj as Record<string, unknown>)[key]);
    if (p !== undefined) return `.${key}${p}`;
  }
  ancestors.delete(obj);
  return undefined;
}
