import { MemoryStorage, type DurableStorage } from '../storage.ts';

/**
 * The durable storage of every rank of a simulation: one store per rank that outlives its crashes.
 * Each incarnation of a rank gets a view whose writes stop counting the moment it crashes (code of a
 * crashed incarnation may still be finishing a promise job).
 */
export class SimStorage {
  private readonly stores: MemoryStorage[];

  constructor(n: number) {
    this.stores = Array.from({ length: n }, () => new MemoryStorage());
  }

  /** What `rank` has stored, for checkers. */
  of(rank: number): DurableStorage {
    return this.stores[rank];
  }

  view(rank: number, alive: () => boolean): DurableStorage {
    const store = this.stores[rank];
    return {
      get: <T>(key: string) => store.get<T>(key),
      set: (key, value) => {
        if (alive()) store.set(key, value);
      },
      delete: (key) => {
        if (alive()) store.delete(key);
      },
      keys: () => store.keys(),
    };
  }
}
