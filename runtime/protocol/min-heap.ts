/** A binary min-heap ordered by `compare` (negative: a comes first). */
export class MinHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly compare: (a: T, b: T) => number) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.compare(items[i], items[parent]) >= 0) break;
      [items[i], items[parent]] = [items[parent], items[i]];
      i = parent;
    }
  }

  /** The items in heap order (not sorted): for callers that scan them. */
  values(): readonly T[] {
    return this.items;
  }

  pop(): T | undefined {
    return this.removeAt(0);
  }

  /** Removes `item` (by identity) if it is there. */
  remove(item: T): boolean {
    const i = this.items.indexOf(item);
    if (i < 0) return false;
    this.removeAt(i);
    return true;
  }

  private removeAt(index: number): T | undefined {
    const items = this.items;
    const top = items[index];
    const end = items.pop();
    if (index < items.length && end !== undefined) {
      items[index] = end;
      let i = index;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (this.compare(items[i], items[parent]) >= 0) break;
        [items[i], items[parent]] = [items[parent], items[i]];
        i = parent;
      }
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && this.compare(items[l], items[m]) < 0) m = l;
        if (r < items.length && this.compare(items[r], items[m]) < 0) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m], items[i]];
        i = m;
      }
    }
    return top;
  }
}
