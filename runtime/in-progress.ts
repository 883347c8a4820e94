/**
 * A few things in progress, the last added usually the first to end: the engine's operations that
 * --timeout reports name, a communicator's collective calls. An array, not a Set: every collective
 * call adds one and removes it, and a Set that a removal leaves empty shrinks, which V8 does by
 * allocating a new table in a runtime call, at every call (about 0.5 µs with warm caches).
 */
export class InProgress<T> {
  readonly all: T[] = [];

  add(item: T): void {
    this.all.push(item);
  }

  delete(item: T): void {
    const i = this.all.lastIndexOf(item);
    if (i === this.all.length - 1) this.all.pop();
    else if (i >= 0) this.all.splice(i, 1);
  }

  has(item: T): boolean {
    return this.all.includes(item);
  }

  clear(): void {
    this.all.length = 0;
  }
}
