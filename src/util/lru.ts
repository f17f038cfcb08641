/**
 * A Map bounded by entry count that forgets its least recently used entry when
 * a new key would exceed the bound. Limiter tables use it so that a flood of
 * distinct keys (spoofed or many real sources) pushes out stale entries instead
 * of growing without bound or refusing every newcomer once full.
 *
 * Recency is the Map's insertion order: `get` and `set` move the key to the end.
 */
export class LruMap<K, V> {
  readonly #map = new Map<K, V>();
  readonly maxEntries: number;

  constructor(maxEntries: number) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1)
      throw new RangeError(`an LRU table needs maxEntries >= 1, got ${maxEntries}`);
    this.maxEntries = maxEntries;
  }

  get size(): number {
    return this.#map.size;
  }

  /** The value, marked as just used. */
  get(key: K): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }

  /** Stores the value as the most recently used, evicting the least recently used entry if full. */
  set(key: K, value: V): void {
    this.#map.delete(key);
    if (this.#map.size >= this.maxEntries) {
      const oldest = this.#map.keys().next();
      if (!oldest.done) this.#map.delete(oldest.value);
    }
    this.#map.set(key, value);
  }

  delete(key: K): boolean {
    return this.#map.delete(key);
  }

  /** Oldest first; deleting the entry being visited is safe. */
  entries(): IterableIterator<[K, V]> {
    return this.#map.entries();
  }
}
