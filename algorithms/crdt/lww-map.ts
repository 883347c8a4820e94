/**
 * LWW-element map with tombstones (book 5.2; the contributed lww-map program). Every key holds the
 * entry of its latest write, a put or a delete (a tombstone), stamped (ts, node). The later stamp
 * wins: higher ts, and on equal ts the higher node. Merge takes the winner key by key, so it is
 * commutative, associative and idempotent, and every replica that has seen the same writes holds the
 * same map. Deleted keys keep their tombstone, so an older put arriving later cannot revive them.
 */

/** A write's stamp: a logical time (a Lamport time) and the writer's id, which breaks ties. */
export interface Stamp {
  ts: number;
  node: number;
}

export interface LwwEntry<V> {
  /** The value; null for a tombstone. */
  value: V | null;
  tomb: boolean;
  ts: number;
  node: number;
}

/** Entries by key (a plain object: it travels in messages as is; values must be plain data). */
export type LwwMap<V> = Record<string, LwwEntry<V>>;

/** > 0 if a is later than b, < 0 if earlier, 0 if the same stamp. */
export function compareStamps(a: Stamp, b: Stamp): number {
  return a.ts !== b.ts ? a.ts - b.ts : a.node - b.node;
}

export function lwwEmpty<V>(): LwwMap<V> {
  return {};
}

/** The map with `entry` written at `key`, unless the key already holds a later (or the same) stamp. */
export function lwwApply<V>(m: LwwMap<V>, key: string, entry: LwwEntry<V>): LwwMap<V> {
  const old = m[key];
  if (old && compareStamps(old, entry) >= 0) return m;
  return { ...m, [key]: entry };
}

export function lwwPut<V>(m: LwwMap<V>, key: string, value: V, stamp: Stamp): LwwMap<V> {
  return lwwApply(m, key, { value, tomb: false, ts: stamp.ts, node: stamp.node });
}

export function lwwDelete<V>(m: LwwMap<V>, key: string, stamp: Stamp): LwwMap<V> {
  return lwwApply<V>(m, key, { value: null, tomb: true, ts: stamp.ts, node: stamp.node });
}

/** Key by key, the later entry. */
export function lwwMerge<V>(a: LwwMap<V>, b: LwwMap<V>): LwwMap<V> {
  let out = a;
  for (const [k, e] of Object.entries(b)) out = lwwApply(out, k, e);
  return out;
}

/** The live value at `key`, or undefined if absent or deleted. */
export function lwwGet<V>(m: LwwMap<V>, key: string): V | undefined {
  const e = m[key];
  return e && !e.tomb ? (e.value as V) : undefined;
}

/** The visible map (tombstones left out), keys sorted. */
export function lwwVisible<V>(m: LwwMap<V>): Record<string, V> {
  const out: Record<string, V> = {};
  for (const k of Object.keys(m).sort()) if (!m[k].tomb) out[k] = m[k].value as V;
  return out;
}

/** The largest ts in the map (0 if empty): a replica's Lamport clock catches up with it on merge. */
export function lwwMaxTs<V>(m: LwwMap<V>): number {
  let max = 0;
  for (const e of Object.values(m)) max = Math.max(max, e.ts);
  return max;
}

/** One canonical text per state (keys sorted): equal texts, equal states. */
export function lwwCanonical<V>(m: LwwMap<V>): string {
  return JSON.stringify(
    Object.keys(m)
      .sort()
      .map((k) => [k, m[k].value, m[k].tomb, m[k].ts, m[k].node]),
  );
}
