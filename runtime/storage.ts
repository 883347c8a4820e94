import { DsError, ErrorCode } from './errors.ts';
import { assertPlainData } from './payload.ts';

/**
 * A rank's durable storage (`comm.storage`): plain data under string keys that survives a crash and
 * restart of the rank (crash-recovery in the simulator). Nothing else a rank holds survives. Values
 * are copied in and out, so changing a value after `set` or after `get` does not change what is stored.
 */
export interface DurableStorage {
  /** The stored value, or undefined. */
  get<T = unknown>(key: string): T | undefined;
  /** Stores a copy of `value` (plain data, as for messages). */
  set(key: string, value: unknown): void;
  delete(key: string): void;
  /** Keys in the order they were first set. */
  keys(): string[];
}

/** Storage held in memory: outlives a simulated restart, not the process. */
export class MemoryStorage implements DurableStorage {
  private readonly map = new Map<string, unknown>();

  get<T = unknown>(key: string): T | undefined {
    checkKey(key, 'storage.get');
    return this.map.has(key) ? (structuredClone(this.map.get(key)) as T) : undefined;
  }

  set(key: string, value: unknown): void {
    checkKey(key, 'storage.set');
    assertPlainData(value, `storage.set(${JSON.stringify(key)})`);
    this.map.set(key, structuredClone(value));
  }

  delete(key: string): void {
    checkKey(key, 'storage.delete');
    this.map.delete(key);
  }

  keys(): string[] {
    return [...this.map.keys()];
  }
}

function checkKey(key: unknown, what: string): void {
  if (typeof key !== 'string') {
    throw new DsError(ErrorCode.InvalidArgument, `${what}: key must be a string, got ${typeof key}`);
  }
}
