/**
 * A map of run ids to values that lets go of a value as soon as it is deleted: the engine's live
 * runs and the memory store's runs, which come and go by the thousand.
 *
 * A JS Map that grows and shrinks rebuilds its table each time, and V8 keeps the entries of the
 * table it left (for iterators that may still walk it). Once such a table has been moved to the
 * old generation it holds the runs that were in it until the next full collection: with 100
 * runs in flight, every young-generation collection moved 3.5 MB of finished runs to the old
 * generation, and collecting took a third of the time. Here the Map holds slot numbers only, and
 * the values sit in an array whose slots are cleared on delete and reused.
 */
export class SlotMap<V> implements Iterable<[string, V]> {
  private readonly index = new Map<string, number>();
  private readonly slots: (V | undefined)[] = [];
  private readonly free: number[] = [];

  get size(): number {
    return this.index.size;
  }

  get(key: string): V | undefined {
    const slot = this.index.get(key);
    return slot === undefined ? undefined : this.slots[slot];
  }

  has(key: string): boolean {
    return this.index.has(key);
  }

  set(key: string, value: V): this {
    const slot = this.index.get(key);
    if (slot === undefined) this.insert(key, value);
    else this.slots[slot] = value;
    return this;
  }

  /** Sets `key` unless it is there already (then false, and nothing changes): a has and a set in one. */
  add(key: string, value: V): boolean {
    if (this.index.has(key)) return false;
    this.insert(key, value);
    return true;
  }

  private insert(key: string, value: V): void {
    const slot = this.free.length > 0 ? this.free.pop()! : this.slots.length;
    this.index.set(key, slot);
    this.slots[slot] = value;
  }

  delete(key: string): boolean {
    const slot = this.index.get(key);
    if (slot === undefined) return false;
    this.index.delete(key);
    this.slots[slot] = undefined;
    this.free.push(slot);
    return true;
  }

  /** The values in the order their keys were first set. */
  *values(): IterableIterator<V> {
    for (const slot of this.index.values()) yield this.slots[slot]!;
  }

  *[Symbol.iterator](): IterableIterator<[string, V]> {
    for (const [key, slot] of this.index) yield [key, this.slots[slot]!];
  }
}
