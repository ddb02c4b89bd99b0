/**
 * A map with a size limit (the oldest entry goes first) and an optional time to live. `onEvict` hears of
 * every entry that leaves, so what it holds elsewhere (a compiled schema in Ajv) can go too.
 */
export class BoundedCache<K, V> {
  readonly #entries = new Map<K, { value: V; expires: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number | null = null,
    private readonly onEvict: (key: K, value: V) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expires !== Infinity && entry.expires <= this.now()) { // no clock read when nothing expires (the hot path)
      this.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: K, value: V): void {
    this.delete(key);
    while (this.#entries.size >= this.maxEntries) this.delete(this.#entries.keys().next().value as K);
    this.#entries.set(key, { value, expires: this.ttlMs === null ? Infinity : this.now() + this.ttlMs });
  }

  delete(key: K): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    this.onEvict(key, entry.value);
  }

  clear(): void {
    for (const key of [...this.#entries.keys()]) this.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}
