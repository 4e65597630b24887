export interface ExpiringCacheOptions {
  /** Bounds a long-lived process serving many tenants: the least recently used go first. */
  readonly maxEntries: number;
  /** Injected by tests. */
  readonly now?: () => number;
}

interface Entry<V> {
  readonly value: Promise<V>;
  expiresAt: number;
}

/**
 * Values loaded asynchronously and kept for a while (secrets, assumed-role credentials): concurrent
 * callers of a key share one load, a failed load is not kept, and the entries are bounded. The map
 * is a #private field, so logging the owner of a cache of secrets shows none of them.
 */
export class ExpiringCache<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: ExpiringCacheOptions) {
    this.#maxEntries = options.maxEntries;
    this.#now = options.now ?? Date.now;
  }

  /**
   * The value of `key`, kept or loaded with `load`; `lifetimeMs` says how long a loaded value is
   * kept (0 or less: not kept, e.g. "none yet" that must be looked up again next time).
   */
  get(key: string, load: () => Promise<V>, lifetimeMs: (value: V) => number): Promise<V> {
    const kept = this.#entries.get(key);
    if (kept && kept.expiresAt > this.#now()) {
      // Most recently used last: a Map iterates in insertion order.
      this.#entries.delete(key);
      this.#entries.set(key, kept);
      return kept.value;
    }
    // Until it settles, concurrent callers share this load.
    const entry: Entry<V> = { value: load(), expiresAt: Number.POSITIVE_INFINITY };
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#maxEntries) break;
      this.#entries.delete(oldest);
    }
    const forget = () => {
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
    };
    entry.value.then((value) => {
      const lifetime = lifetimeMs(value);
      if (lifetime > 0) entry.expiresAt = this.#now() + lifetime;
      else forget();
    }, forget);
    return entry.value;
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}
