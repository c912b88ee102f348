import fp from "fastify-plugin";
import { cacheKeys } from "@mcs/protocol";
import type { Cache, Clock } from "@mcs/platform";
import { unavailable } from "../../errors.ts";
import { newToken, sha256Hex } from "../../lib/token.ts";

declare module "fastify" {
  interface FastifyInstance {
    sessions: SessionStore;
  }
}

/** A session lives this long after its last use. */
export const SESSION_TTL_S = 12 * 3600;
/** A session is written back (its expiry pushed on) at most this often, not on every request. */
const SLIDE_EVERY_MS = 60_000;

interface StoredSession {
  user_id: number;
  /** Unix ms; checked against the app's clock as well as the cache's TTL. */
  expires_at: number;
  touched_at: number;
}

/**
 * Sessions in the Cache port under `mcs:session:<sha256(token)>`: a stolen cache dump
 * holds no usable token, a session expires by itself, and deleting the key revokes it.
 */
export class SessionStore {
  constructor(private readonly cache: Cache, private readonly clock: Clock) {}

  async create(userId: number): Promise<string> {
    const token = newToken();
    const now = this.clock.now();
    await this.write(token, { user_id: userId, expires_at: now + SESSION_TTL_S * 1000, touched_at: now });
    return token;
  }

  /** The user id of a live session (sliding its expiry), or null. */
  async resolve(token: string): Promise<number | null> {
    const text = await this.guard(this.cache.get(cacheKeys.session(sha256Hex(token))));
    if (!text) return null;
    const session = JSON.parse(text) as StoredSession;
    const now = this.clock.now();
    if (now >= session.expires_at) {
      await this.revoke(token);
      return null;
    }
    if (now - session.touched_at >= SLIDE_EVERY_MS) {
      await this.write(token, { ...session, expires_at: now + SESSION_TTL_S * 1000, touched_at: now });
    }
    return session.user_id;
  }

  async revoke(token: string): Promise<void> {
    await this.guard(this.cache.del(cacheKeys.session(sha256Hex(token))));
  }

  private async write(token: string, session: StoredSession): Promise<void> {
    await this.guard(this.cache.set(cacheKeys.session(sha256Hex(token)), JSON.stringify(session), { ttlSeconds: SESSION_TTL_S }));
  }

  /** Without the cache nobody can be authenticated: say so (503), not "internal error". */
  private async guard<T>(operation: Promise<T>): Promise<T> {
    try {
      return await operation;
    } catch {
      throw unavailable("the session store (cache) is unavailable");
    }
  }
}

export const sessionsPlugin = fp(
  async (app) => {
    app.decorate("sessions", new SessionStore(app.cache, app.clock));
  },
  { name: "sessions", dependencies: ["ports"] },
);
