import { DsError, ErrorCode } from './errors.ts';

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
  const problem = findProblem(value, new Set(), '');
  if (problem !== undefined) {
    throw new DsError(
      ErrorCode.Unencodable,
      `${describe(what)}: payload${problem} cannot be sent; payloads are plain data ` +
        `(numbers, strings, booleans, null, arrays, plain objects, Uint8Array)`,
    );
  }
}

/** A surrogate code unit that is not half of a pair (a /u pattern sees a pair as one code point). */
const LONE_SURROGATE = /\p{Cs}/u;

function findProblem(value: unknown, ancestors: Set<object>, path: string): string | undefined {
  switch (typeof value) {
    case 'undefined':
    case 'boolean':
    case 'number':
      return undefined;
    case 'string':
      return LONE_SURROGATE.test(value) ? `${path} is a string with a lone surrogate (not valid Unicode)` : undefined;
    case 'bigint':
      return value < -(2n ** 63n) || value >= 2n ** 64n ? `${path} is a BigInt outside 64 bits` : undefined;
    case 'function':
      return `${path} is a function`;
    case 'symbol':
      return `${path} is a symbol`;
  }
  if (value === null || value instanceof Date || value instanceof Uint8Array) return undefined;
  const obj = value as object;
  if (ancestors.has(obj)) return `${path} is a cycle`;
  if (Array.isArray(obj)) {
    ancestors.add(obj);
    for (let i = 0; i < obj.length; i++) {
      const p = findProblem(obj[i], ancestors, `${path}[${i}]`);
      if (p !== undefined) return p;
    }
    ancestors.delete(obj);
    return undefined;
  }
  const proto = Object.getPrototypeOf(obj);
  if (proto !== Object.prototype && proto !== null) {
    const name = (proto?.constructor as { name?: string } | undefined)?.name ?? 'unknown';
    return `${path} is a ${name} (not a plain object)`;
  }
  ancestors.add(obj);
  for (const key in obj) {
    if (key === '__proto__') return `${path} has a key __proto__`;
    if (LONE_SURROGATE.test(key)) return `${path} has a key with a lone surrogate (not valid Unicode)`;
    const p = findProblem((obj as Record<string, unknown>)[key], ancestors, `${path}.${key}`);
    if (p !== undefined) return p;
  }
  ancestors.delete(obj);
  return undefined;
}
