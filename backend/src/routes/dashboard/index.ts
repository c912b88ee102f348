import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { AppError } from "../../errors.ts";
import { SESSION_COOKIE } from "../../plugins/app/auth.ts";
import { WS_CLOSE } from "../../plugins/app/dashboard-hub.ts";

/** A close reason is at most 123 bytes. */
const reasonOf = (message: string) => (Buffer.byteLength(message) <= 123 ? message : `${Buffer.from(message).subarray(0, 120).toString()}…`);

/**
 * The credential of an upgrade request, in this order: `Authorization: Bearer <token>`
 * (scripts), `?token=` (a session token, or the kiosk token of `/screen?token=`: a browser's
 * WebSocket cannot send headers), the session cookie (the admin site).
 */
function credentialOf(request: FastifyRequest): { token: string; via: "bearer" | "query" | "cookie" } | null {
  const header = request.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    return match?.[1] ? { token: match[1], via: "bearer" } : null;
  }
  const query = (request.query ?? {}) as Record<string, unknown>;
  if (typeof query.token === "string" && query.token !== "") return { token: query.token, via: "query" };
  const cookie = request.cookies[SESSION_COOKIE];
  return cookie ? { token: cookie, via: "cookie" } : null;
}

/**
 * `GET /ws/dashboard` (WebSocket): the big screen's live feed. Authenticated on connect by
 * Bearer, `?token=` (session or kiosk token) or the session cookie; refused: closed with
 * 4401 and the reason. Then a `realtime` snapshot of every device, `realtime` deltas at most
 * once a second and `alarm` frames at once (see DashboardHub).
 */
const dashboardRoutes: FastifyPluginAsync = async (app) => {
  app.get(
    "/dashboard",
    {
      websocket: true,
      // The URL may carry a token: not in the request log.
      logLevel: "warn",
      schema: { hide: true },
    },
    async (socket, request) => {
      const credential = credentialOf(request);
      if (!credential) {
        socket.close(WS_CLOSE.unauthorized, "no credential: log in, or connect with ?token=<session or kiosk token>");
        return;
      }
      // Kiosk tokens come as Bearer or ?token=, never as the cookie.
      const kiosk = credential.via !== "cookie";
      let identity;
      try {
        identity = await app.identify(credential.token, { kiosk });
      } catch (error) {
        if (!(error instanceof AppError)) request.log.warn({ err: error }, "dashboard: could not authenticate a connection");
        const refused = error instanceof AppError && error.statusCode === 401;
        socket.close(refused ? WS_CLOSE.unauthorized : WS_CLOSE.internalError, reasonOf(error instanceof AppError ? error.message : "could not authenticate: try again"));
        return;
      }
      app.log.info({ user: identity.user.username, via: credential.via }, "dashboard connected");
      const verify = () =>
        app.identify(credential.token, { kiosk }).then(
          () => true,
          // Only a refusal ends the connection; a cache or database away does not.
          (error: unknown) => !(error instanceof AppError && error.statusCode === 401),
        );
      await app.dashboardHub.add(socket, { kioskId: identity.kiosk?.id ?? null, verify });
    },
  );
};

export default dashboardRoutes;
