export interface SetOptions {
  /** Expire the key after this many seconds. */
  ttlSeconds?: number;
  /** Only set when the key does not exist (Redis `NX`); the answer says whether it was set. */
  onlyIfAbsent?: boolean;
}

/**
 * The Cache port: Redis in services mode, a Map in the embedded mode. Values are strings;
 * callers own their encoding. Keys are namespaced by the caller (`mcs:…`).
 */
export interface Cache {
  get(key: string): Promise<string | null>;
  /** Returns false only when `onlyIfAbsent` was asked and the key already existed. */
  set(key: string, value: string, options?: SetOptions): Promise<boolean>;
  del(key: string): Promise<void>;
  hget(key: string, field: string): Promise<string | null>;
  hgetall(key: string): Promise<Record<string, string>>;
  /** Sets several fields of one hash in one round trip. */
  hset(key: string, entries: Record<string, string>): Promise<void>;
  hdel(key: string, field: string): Promise<void>;
  /**
   * Sets one field of a hash only if it still holds `expected` (null: only if absent),
   * atomically; the answer says whether it was set. Several workers share the cache, and
   * this lets exactly one of them make a given change.
   */
  hcompareAndSet(key: string, field: string, expected: string | null, value: string): Promise<boolean>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
