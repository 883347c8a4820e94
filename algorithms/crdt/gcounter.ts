/**
 * G-Counter, the grow-only counter CRDT (book 5.2; the contributed crdt-gcounter program). State: one
 * slot per replica, keyed by the replica's id (a rank), so any number of replicas fits. A replica
 * increments only its own slot; merge is the slot-wise maximum; the value is the sum of the slots.
 * Merge is commutative, associative and idempotent, so replicas that have seen the same increments
 * agree whatever the order and number of merges.
 */

/** Slots by replica id (a plain object, so it travels in messages as is). */
export type GCounter = Record<string, number>;

export function gcounterEmpty(): GCounter {
  return {};
}

/** Adds `by` (≥ 0) to replica `id`'s slot. */
export function gcounterIncrement(c: GCounter, id: number | string, by = 1): GCounter {
  if (!(by >= 0)) throw new RangeError(`G-Counter increments must be >= 0, got ${by}`);
  const key = String(id);
  return { ...c, [key]: (c[key] ?? 0) + by };
}

export function gcounterValue(c: GCounter): number {
  return Object.values(c).reduce((s, x) => s + x, 0);
}

/** Slot-wise maximum. */
export function gcounterMerge(a: GCounter, b: GCounter): GCounter {
  const out: GCounter = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = Math.max(out[k] ?? 0, v);
  return out;
}

/** One canonical text per state (keys sorted, zero slots dropped): equal texts, equal states. */
export function gcounterCanonical(c: GCounter): string {
  const keys = Object.keys(c)
    .filter((k) => c[k] !== 0)
    .sort((x, y) => Number(x) - Number(y) || x.localeCompare(y));
  return JSON.stringify(keys.map((k) => [k, c[k]]));
}
