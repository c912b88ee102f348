import fp from "fastify-plugin";
import type { Cache, Clock, LockoutPolicy } from "@mcs/platform";
import { AppError, ERROR_CODES, unavailable } from "../../errors.ts";
import { sha256Hex } from "../../lib/token.ts";

declare module "fastify" {
  interface FastifyInstance {
    loginThrottle: LoginThrottle;
  }
}

/** Failed logins allowed per username and client address in one window. */
export const MAX_FAILED_LOGINS = 5;
export const FAILED_LOGIN_WINDOW_S = 15 * 60;

/** Consecutive failed logins (from any address) that lock an account, and for how long. */
export const LOCKOUT: LockoutPolicy = { maxFailures: 5, lockMs: 15 * 60_000 };
/** The status of a login refused because the account is locked (WebDAV's "Locked": the account, not the client, is the cause). */
export const LOCKED_STATUS = 423;
/** How long failures against an unknown username are remembered. */
const UNKNOWN_MEMORY_S = 24 * 3600;

interface Failures {
  count: number;
  /** Unix ms when the window started. */
  since: number;
}

interface UnknownUserFailures {
  count: number;
  /** Unix ms; 0 when not locked. */
  locked_until: number;
}

/** 423 with Retry-After: the account is locked until `untilMs`. */
export function accountLocked(untilMs: number, nowMs: number): AppError {
  const retryAfter = Math.max(1, Math.ceil((untilMs - nowMs) / 1000));
  const minutes = Math.ceil(retryAfter / 60);
  return new AppError(
    LOCKED_STATUS,
    ERROR_CODES.tooManyAttempts,
    `account locked after repeated failed logins; try again in ${minutes} min or ask an administrator`,
    { "retry-after": String(retryAfter) },
  );
}

/**
 * Two brakes on password guessing, besides the account lock-out kept in the database:
 *  - per username and client address: after MAX_FAILED_LOGINS failures, further attempts
 *    from that address are refused (429) until the window ends — this one outlasts an
 *    admin's unlock, so the guessing address stays out while the owner logs in elsewhere;
 *  - per unknown username: the same lock-out as a real account gets, kept in the cache,
 *    so that a 423 does not tell a guesser which usernames exist.
 */
export class LoginThrottle {
  constructor(private readonly cache: Cache, private readonly clock: Clock) {}

  async check(username: string, ip: string): Promise<void> {
    const failures = await this.read(username, ip);
    if (failures && failures.count >= MAX_FAILED_LOGINS) {
      const retryAfter = Math.max(1, Math.ceil((failures.since + FAILED_LOGIN_WINDOW_S * 1000 - this.clock.now()) / 1000));
      throw new AppError(429, ERROR_CODES.tooManyAttempts, `too many failed logins from this address; try again in ${retryAfter} s`, {
        "retry-after": String(retryAfter),
      });
    }
  }

  async fail(username: string, ip: string): Promise<void> {
    const now = this.clock.now();
    const failures = (await this.read(username, ip)) ?? { count: 0, since: now };
    const left = Math.ceil((failures.since + FAILED_LOGIN_WINDOW_S * 1000 - now) / 1000);
    if (left <= 0) return;
    await guard(this.cache.set(key(username, ip), JSON.stringify({ ...failures, count: failures.count + 1 }), { ttlSeconds: left }));
  }

  async clear(username: string, ip: string): Promise<void> {
    await guard(this.cache.del(key(username, ip)));
  }

  /** Unix ms until which an unknown username answers "locked", as a real account would; null when it does not. */
  async unknownLockedUntil(username: string): Promise<number | null> {
    const state = await this.readUnknown(username);
    return state && state.locked_until > this.clock.now() ? state.locked_until : null;
  }

  /** Counts a failure against an unknown username; answers the lock's end when this one locks it. */
  async failUnknown(username: string): Promise<number | null> {
    const now = this.clock.now();
    const state = (await this.readUnknown(username)) ?? { count: 0, locked_until: 0 };
    const count = state.count + 1;
    const locks = count >= LOCKOUT.maxFailures;
    const next: UnknownUserFailures = locks ? { count: 0, locked_until: now + LOCKOUT.lockMs } : { count, locked_until: state.locked_until };
    await guard(this.cache.set(unknownKey(username), JSON.stringify(next), { ttlSeconds: UNKNOWN_MEMORY_S }));
    return locks ? next.locked_until : null;
  }

  private async readUnknown(username: string): Promise<UnknownUserFailures | null> {
    const text = await guard(this.cache.get(unknownKey(username)));
    return text ? (JSON.parse(text) as UnknownUserFailures) : null;
  }

  private async read(username: string, ip: string): Promise<Failures | null> {
    const text = await guard(this.cache.get(key(username, ip)));
    if (!text) return null;
    const failures = JSON.parse(text) as Failures;
    // The cache's TTL ends the window; this also ends it under a test's fake clock.
    return this.clock.now() - failures.since < FAILED_LOGIN_WINDOW_S * 1000 ? failures : null;
  }
}

/** Without the cache there are no sessions either: the login is unavailable (503). */
async function guard<T>(operation: Promise<T>): Promise<T> {
  try {
    return await operation;
  } catch {
    throw unavailable("the session store (cache) is unavailable");
  }
}

function key(username: string, ip: string): string {
  return `mcs:login-failures:${sha256Hex(`${username.toLowerCase()}\n${ip}`)}`;
}

function unknownKey(username: string): string {
  return `mcs:login-unknown:${sha256Hex(username)}`;
}

export const loginThrottlePlugin = fp(
  async (app) => {
    app.decorate("loginThrottle", new LoginThrottle(app.cache, app.clock));
  },
  { name: "login-throttle", dependencies: ["ports"] },
);
