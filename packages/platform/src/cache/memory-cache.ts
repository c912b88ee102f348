import { systemClock, type Clock } from "../clock.ts";
import type { Cache, SetOptions } from "./cache.ts";

interface Entry {
  value: string | Map<string, string>;
  expiresAt: number | null;
}

/** The Cache port in process memory, for the embedded mode: the same semantics as Redis. */
export class MemoryCache implements Cache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly clock: Clock = systemClock) {}

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt !== null && entry.expiresAt <= this.clock.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private hash(key: string, create: boolean): Map<string, string> | undefined {
    const entry = this.live(key);
    if (entry) {
      if (typeof entry.value === "string") throw new Error(`WRONGTYPE ${key} holds a string, not a hash`);
      return entry.value;
    }
    if (!create) return undefined;
    const value = new Map<string, string>();
    this.entries.set(key, { value, expiresAt: null });
    return value;
  }

  async get(key: string) {
    const entry = this.live(key);
    if (!entry) return null;
    if (typeof entry.value !== "string") throw new Error(`WRONGTYPE ${key} holds a hash, not a string`);
    return entry.value;
  }

  async set(key: string, value: string, options: SetOptions = {}) {
    if (options.onlyIfAbsent && this.live(key)) return false;
    const expiresAt = options.ttlSeconds ? this.clock.now() + options.ttlSeconds * 1000 : null;
    this.entries.set(key, { value, expiresAt });
    return true;
  }

  async del(key: string) {
    this.entries.delete(key);
  }

  async hget(key: string, field: string) {
    return this.hash(key, false)?.get(field) ?? null;
  }

  async hgetall(key: string) {
    return Object.fromEntries(this.hash(key, false) ?? []);
  }

  async hset(key: string, entries: Record<string, string>) {
    const hash = this.hash(key, true)!;
    for (const [field, value] of Object.entries(entries)) hash.set(field, value);
  }

  async hdel(key: string, field: string) {
    this.hash(key, false)?.delete(field);
  }

  async hcompareAndSet(key: string, field: string, expected: string | null, value: string) {
    const hash = this.hash(key, true)!;
    if ((hash.get(field) ?? null) !== expected) return false;
    hash.set(field, value);
    return true;
  }

  async ping() {
    return true;
  }

  async close() {
    this.entries.clear();
  }
}
