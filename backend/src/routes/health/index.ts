import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { HealthSchema, type Health } from "@mcs/protocol";
import { MemoryCache } from "@mcs/platform";
import { withTimeout } from "../../lib/with-timeout.ts";

type ServiceState = Health["db"];

export interface HealthOptions {
  broker(): ServiceState;
  /** The demo fleet of the embedded server, or null (none runs). */
  demo?(): Health["demo"];
}

/** A health check must answer fast even when a service hangs. */
const CHECK_TIMEOUT_MS = 1_000;
/**
 * Messages refused in the last 5 minutes above which the platform is degraded: one detector
 * sending what cannot be stored every 10 s is already 30. Something sent cannot be read, and
 * whoever watches the health must know.
 */
export const DEAD_LETTERS_DEGRADED = 30;
const RECENT_S = 5 * 60;

/**
 * `GET /api/health`, without a session: the database and the cache are checked live
 * (answered "embedded" when in-process), the broker is reported by its owner. Any
 * service down, or many messages refused lately, makes the status "degraded"; the answer is
 * 200 either way so that the body can say what is wrong.
 */
const healthRoutes: FastifyPluginAsyncZod<HealthOptions> = async (app, options) => {
  // Kept from the last successful count: the database being down must not hide it.
  let deadLetters = 0;
  let recentDeadLetters = 0;

  async function checkDb(): Promise<ServiceState> {
    try {
      await withTimeout(app.db.query("SELECT 1"), CHECK_TIMEOUT_MS, "database");
      deadLetters = await withTimeout(app.telemetry.countDeadLetters(), CHECK_TIMEOUT_MS, "database");
      recentDeadLetters = await withTimeout(app.telemetry.countRecentDeadLetters(RECENT_S), CHECK_TIMEOUT_MS, "database");
      return app.db.kind === "pglite" ? "embedded" : "ok";
    } catch {
      return "down";
    }
  }

  async function checkCache(): Promise<ServiceState> {
    const ok = await withTimeout(app.cache.ping(), CHECK_TIMEOUT_MS, "cache").catch(() => false);
    if (!ok) return "down";
    return app.cache instanceof MemoryCache ? "embedded" : "ok";
  }

  app.get(
    "/health",
    {
      schema: { tags: ["health"], summary: "Whether the platform and its services are up", response: { 200: HealthSchema } },
    },
    async () => {
      const [db, cache] = await Promise.all([checkDb(), checkCache()]);
      const broker = options.broker();
      const degraded = [db, cache, broker].includes("down") || recentDeadLetters >= DEAD_LETTERS_DEGRADED;
      return {
        status: degraded ? "degraded" : "ok", db, cache, broker, license: app.license.known ? app.license.status.state : "unknown", dead_letters: deadLetters, dead_letters_5min: recentDeadLetters,
        demo: options.demo?.() ?? null,
      } satisfies Health;
    },
  );
};

export default healthRoutes;
