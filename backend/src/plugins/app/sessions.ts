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

/** Hash: sha256(session token) → Unix ms the session expires; one per user, to end all of a user's sessions. */
export const userSessionsKey = (userId: number) => `mcs:user-sessions:${userId}`;

interface StoredSession {
  user_id: number;
  /** Unix ms; checked against the app's clock as well as the cache's TTL. */
  expires_at: number;
  touched_at: number;
  /** sha256 of the session's CSRF token (the `mcs_csrf` cookie), which binds that cookie to this session. */
  csrf?: string;
}

/** A new session: its token (the `mcs_session` cookie or Bearer token) and its CSRF token (the `mcs_csrf` cookie). */
export interface NewSession {
  token: string;
  csrf: string;
}

/** A live session as a request sees it. */
export interface LiveSession {
  userId: number;
  /** sha256 of its CSRF token; null for a session made before CSRF tokens existed. */
  csrfHash: string | null;
}

/**
 * Sessions in the Cache port under `mcs:session:<sha256(token)>`: a stolen cache dump
 * holds no usable token, a session expires by itself, and deleting the key revokes it.
 * Each user's sessions are also indexed in `mcs:user-sessions:<id>` (field: the token's hash,
 * value: its expiry), so that a role change, a disabled account, a new password or a deleted
 * user ends all of that user's sessions at once. Expired fields are pruned when the user
 * logs in again.
 */
export class SessionStore {
  constructor(private readonly cache: Cache, private readonly clock: Clock) {}

  /** A new session's token (for callers that need no CSRF token: scripts, kiosks). */
  async create(userId: number): Promise<string> {
    return (await this.open(userId)).token;
  }

  /** A new session with its CSRF token. */
  async open(userId: number): Promise<NewSession> {
    const token = newToken();
    const csrf = newToken();
    const now = this.clock.now();
    const expiresAt = now + SESSION_TTL_S * 1000;
    const hash = sha256Hex(token);
    await this.prune(userId, now);
    await this.guard(this.cache.hset(userSessionsKey(userId), { [hash]: String(expiresAt) }));
    await this.write(hash, { user_id: userId, expires_at: expiresAt, touched_at: now, csrf: sha256Hex(csrf) });
    return { token, csrf };
  }

  /** The user id of a live session (sliding its expiry), or null. */
  async resolve(token: string): Promise<number | null> {
    return (await this.lookup(token))?.userId ?? null;
  }

  /** The live session of a token (sliding its expiry), or null. */
  async lookup(token: string): Promise<LiveSession | null> {
    const hash = sha256Hex(token);
    const session = await this.read(hash);
    if (!session) return null;
    const now = this.clock.now();
    if (now >= session.expires_at) {
      await this.remove(hash, session.user_id);
      return null;
    }
    if (now - session.touched_at >= SLIDE_EVERY_MS) {
      const expiresAt = now + SESSION_TTL_S * 1000;
      await this.write(hash, { ...session, expires_at: expiresAt, touched_at: now });
      // Revoked while this request was on its way (the index entry goes first): do not bring it back.
      if ((await this.guard(this.cache.hget(userSessionsKey(session.user_id), hash))) === null) {
        await this.guard(this.cache.del(cacheKeys.session(hash)));
        return null;
      }
      await this.guard(this.cache.hset(userSessionsKey(session.user_id), { [hash]: String(expiresAt) }));
    }
    return { userId: session.user_id, csrfHash: session.csrf ?? null };
  }

  async revoke(token: string): Promise<void> {
    const hash = sha256Hex(token);
    const session = await this.read(hash);
    if (session) await this.remove(hash, session.user_id);
    else await this.guard(this.cache.del(cacheKeys.session(hash)));
  }

  /**
   * Ends every session of a user (but `except`, the token of the request that asked, when
   * given). Answers how many were ended.
   */
  async revokeUser(userId: number, except?: string): Promise<number> {
    const keep = except === undefined ? null : sha256Hex(except);
    const index = await this.guard(this.cache.hgetall(userSessionsKey(userId)));
    let ended = 0;
    for (const hash of Object.keys(index)) {
      if (hash === keep) continue;
      await this.remove(hash, userId);
      ended++;
    }
    return ended;
  }

  /** The index entry first, then the session: a request sliding it meanwhile sees the entry gone and drops it. */
  private async remove(hash: string, userId: number): Promise<void> {
    await this.guard(this.cache.hdel(userSessionsKey(userId), hash));
    await this.guard(this.cache.del(cacheKeys.session(hash)));
  }

  /** Forgets the index entries of a user's sessions that have expired by themselves. */
  private async prune(userId: number, now: number): Promise<void> {
    const index = await this.guard(this.cache.hgetall(userSessionsKey(userId)));
    for (const [hash, expiresAt] of Object.entries(index)) {
      if (Number(expiresAt) <= now) await this.guard(this.cache.hdel(userSessionsKey(userId), hash));
    }
  }

  private async read(hash: string): Promise<StoredSession | null> {
    const text = await this.guard(this.cache.get(cacheKeys.session(hash)));
    return text ? (JSON.parse(text) as StoredSession) : null;
  }

  private async write(hash: string, session: StoredSession): Promise<void> {
    await this.guard(this.cache.set(cacheKeys.session(hash), JSON.stringify(session), { ttlSeconds: SESSION_TTL_S }));
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
