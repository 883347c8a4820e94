/**
 * A canonical serialization of a machine's state or a message: equal strings for equal values,
 * whatever the order in which an object's keys, a Map's entries or a Set's members were added.
 * The state-space search (state-space.ts) hashes states by it.
 */
export function canonical(value: unknown): string {
  switch (typeof value) {
    case 'number':
      return Object.is(value, -0) ? '0' : String(value);
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'T' : 'F';
    case 'undefined':
      return 'U';
    case 'bigint':
      return `${value}n`;
    case 'object':
      if (value === null) return 'N';
      if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
      if (value instanceof Map) return `M{${sorted([...value].map(([k, v]) => `${canonical(k)}:${canonical(v)}`))}}`;
      if (value instanceof Set) return `S{${sorted([...value].map(canonical))}}`;
      return `{${sorted(Object.keys(value).map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`))}}`;
    default:
      throw new TypeError(`canonical(): a state holds a ${typeof value}, which cannot be compared; keep functions and symbols out of it`);
  }
}

function sorted(parts: string[]): string {
  return parts.sort().join(',');
}
