import { cacheKeys, PRESENCE_REASONS, type PresenceReason } from "@mcs/protocol";
import type { Cache } from "../cache/cache.ts";

/** A device's online state as last decided: since when (`at`, Unix ms) and why. */
export interface PresenceState {
  online: boolean;
  at: number;
  reason: PresenceReason;
}

export interface DevicePresence {
  /** Absent until the device was first heard of (or after the cache was emptied). */
  state?: PresenceState;
  /** When the server last received a reading or an online status from it (Unix ms). */
  lastSeen?: number;
}

/**
 * Device presence in the Cache port, shared by every worker and the backend: hash
 * `mcs:presence` (sn → JSON state) and hash `mcs:seen` (sn → Unix ms). A shared
 * subscription gives one device's messages to several workers, so no worker's memory
 * can be the truth; a state changes only by compare-and-set, so each change is made
 * (and announced) by exactly one of them.
 */
export class PresenceStore {
  constructor(private readonly cache: Cache) {}

  async one(sn: string): Promise<DevicePresence> {
    const [state, seen] = await Promise.all([this.cache.hget(cacheKeys.presence, sn), this.cache.hget(cacheKeys.seen, sn)]);
    return toPresence(state, seen);
  }

  async all(): Promise<Map<string, DevicePresence>> {
    const [states, seen] = await Promise.all([this.cache.hgetall(cacheKeys.presence), this.cache.hgetall(cacheKeys.seen)]);
    const found = new Map<string, DevicePresence>();
    for (const sn of new Set([...Object.keys(states), ...Object.keys(seen)])) found.set(sn, toPresence(states[sn] ?? null, seen[sn] ?? null));
    return found;
  }

  /** The stored state as written (the compare value for `change`) and as read. */
  async current(sn: string): Promise<{ text: string | null; state: PresenceState | undefined }> {
    const text = await this.cache.hget(cacheKeys.presence, sn);
    return { text, state: parseState(text) };
  }

  /** Writes `next` only if the stored state is still `expected` (its text, null for none). */
  change(sn: string, expected: string | null, next: PresenceState): Promise<boolean> {
    return this.cache.hcompareAndSet(cacheKeys.presence, sn, expected, JSON.stringify(next));
  }

  /** Notes when devices were last heard from (server receive time). */
  async seen(lastSeen: ReadonlyMap<string, number>): Promise<void> {
    if (lastSeen.size === 0) return;
    await this.cache.hset(cacheKeys.seen, Object.fromEntries([...lastSeen].map(([sn, ms]) => [sn, String(ms)])));
  }

  /** A deleted device's presence, so a new device with its sn starts unknown. */
  async forget(sn: string): Promise<void> {
    await Promise.all([this.cache.hdel(cacheKeys.presence, sn), this.cache.hdel(cacheKeys.seen, sn)]);
  }
}

function toPresence(stateText: string | null, seenText: string | null): DevicePresence {
  const presence: DevicePresence = {};
  const state = parseState(stateText);
  if (state) presence.state = state;
  const seen = Number(seenText);
  if (seenText !== null && Number.isFinite(seen)) presence.lastSeen = seen;
  return presence;
}

/** Another process wrote it: trusted for its shape only after a look. */
function parseState(text: string | null): PresenceState | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as Partial<PresenceState>;
    if (typeof value.online !== "boolean" || typeof value.at !== "number" || !PRESENCE_REASONS.includes(value.reason as PresenceReason)) return undefined;
    return { online: value.online, at: value.at, reason: value.reason as PresenceReason };
  } catch {
    return undefined;
  }
}
