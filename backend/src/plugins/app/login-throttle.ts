import fp from "fastify-plugin";
import type { Cache, Clock } from "@mcs/platform";
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

interface Failures {
  count: number;
  /** Unix ms when the window started. */
  since: number;
}

/**
 * A basic brake on password guessing: after MAX_FAILED_LOGINS failures for one
 * username from one address, further attempts are refused (429) until the window ends.
 * The full lock-out policy comes with the users issue.
 */
export class LoginThrottle {
  constructor(private readonly cache: Cache, private readonly clock: Clock) {}

  async check(username: string, ip: string): Promise<void> {
    const failures = await this.read(username, ip);
    if (failures && failures.count >= MAX_FAILED_LOGINS) {
      const retryAfter = Math.max(1, Math.ceil((failures.since + FAILED_LOGIN_WINDOW_S * 1000 - this.clock.now()) / 1000));
      throw new AppError(429, ERROR_CODES.tooManyAttempts, `too many failed logins; try again in ${retryAfter} s`, { "retry-after": String(retryAfter) });
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

export const loginThrottlePlugin = fp(
  async (app) => {
    app.decorate("loginThrottle", new LoginThrottle(app.cache, app.clock));
  },
  { name: "login-throttle", dependencies: ["ports"] },
);
