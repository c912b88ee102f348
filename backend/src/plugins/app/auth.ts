import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from "fastify";
import fp from "fastify-plugin";
import type { Role, User } from "@mcs/protocol";
import { KioskTokenStore, type Actor } from "@mcs/platform";
import { forbidden, unauthenticated } from "../../errors.ts";
import { sha256Hex } from "../../lib/token.ts";

declare module "fastify" {
  interface FastifyInstance {
    /** onRequest hook: a live session, or 401. Sets `request.user`. */
    authenticate: onRequestAsyncHookHandler;
    /** onRequest hook (after `authenticate`): one of these roles, or 403. */
    requireRole(...roles: Role[]): onRequestAsyncHookHandler;
    /**
     * Who a token belongs to: a live session's user, or (with `kiosk`) a wall screen's kiosk
     * token as the read-only viewer `kiosk:<name>`. Throws 401 otherwise. For the WebSocket,
     * which takes its token from the query as well.
     */
    identify(token: string, options: { kiosk: boolean }): Promise<Identity>;
    kioskTokens: KioskTokenStore;
  }
  interface FastifyRequest {
    user: User | null;
    sessionToken: string | null;
    /**
     * How the session came: `bearer` (a script's Authorization header) or `cookie` (a
     * browser: the CSRF check applies); null when the request is not authenticated.
     */
    sessionVia: "bearer" | "cookie" | null;
    /** sha256 of the session's CSRF token, for the CSRF check; null without one. */
    sessionCsrfHash: string | null;
    /** The wall screen's kiosk token that authenticated the request (then `user` is its viewer), else null. */
    kiosk: KioskIdentity | null;
  }
}

export interface KioskIdentity {
  id: number;
  name: string;
}

/** Who a token belongs to, as `identify` answers. */
export interface Identity {
  user: User;
  /** Set when the token is a kiosk token (the user is then `kiosk:<name>`, a viewer). */
  kiosk: KioskIdentity | null;
  /** A session's CSRF hash (null for kiosk tokens and old sessions). */
  csrfHash: string | null;
}

/** Kiosk tokens start so: told apart from session tokens without a lookup. */
export const KIOSK_TOKEN_PREFIX = "mcsk_";
/** A kiosk token only looks: any other method is refused (403), whatever the route. */
const KIOSK_METHODS = new Set(["GET", "HEAD"]);

export const SESSION_COOKIE = "mcs_session";

/** The session token of a request: `Authorization: Bearer <token>` (scripts) or the session cookie (browsers). */
export function tokenOf(request: FastifyRequest): string | null {
  return credentialOf(request)?.token ?? null;
}

function credentialOf(request: FastifyRequest): { token: string; via: "bearer" | "cookie" } | null {
  const header = request.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    return match?.[1] ? { token: match[1], via: "bearer" } : null;
  }
  const cookie = request.cookies[SESSION_COOKIE];
  return cookie ? { token: cookie, via: "cookie" } : null;
}

/** Who is acting, for the audit log. */
export function actorOf(request: FastifyRequest): Actor {
  return { name: request.user?.username ?? "anonymous", ip: request.ip };
}

export const authPlugin = fp(
  async (app) => {
    app.decorateRequest("user", null);
    app.decorateRequest("sessionToken", null);
    app.decorateRequest("sessionVia", null);
    app.decorateRequest("sessionCsrfHash", null);

    app.decorateRequest("kiosk", null);
    const kioskTokens = new KioskTokenStore(app.db);
    app.decorate("kioskTokens", kioskTokens);

    async function identify(token: string, options: { kiosk: boolean }): Promise<Identity> {
      if (options.kiosk && token.startsWith(KIOSK_TOKEN_PREFIX)) {
        const kiosk = await kioskTokens.findActive(sha256Hex(token));
        if (!kiosk) throw unauthenticated("this kiosk token is unknown or was revoked: ask an administrator for a new one");
        await kioskTokens.touch(kiosk, app.clock.now()).catch((error: unknown) => app.log.warn({ err: error, kiosk: kiosk.id }, "could not note the kiosk token's use"));
        return { user: { id: -kiosk.id, username: `kiosk:${kiosk.name}`, role: "viewer" }, kiosk: { id: kiosk.id, name: kiosk.name }, csrfHash: null };
      }
      const session = await app.sessions.lookup(token);
      if (session === null) throw unauthenticated("the session has expired or was revoked: log in again");
      // The user as stored now: a changed role, a disabled or a deleted user takes effect at once.
      const user = await app.users.get(session.userId);
      if (!user) {
        await app.sessions.revoke(token);
        throw unauthenticated("the session's user no longer exists");
      }
      if (user.disabled) {
        await app.sessions.revoke(token);
        throw unauthenticated("this account is disabled: ask an administrator");
      }
      return { user: { id: user.id, username: user.username, role: user.role }, kiosk: null, csrfHash: session.csrfHash };
    }
    app.decorate("identify", identify);

    app.decorate("authenticate", async function authenticate(request: FastifyRequest, _reply: FastifyReply) {
      const credential = credentialOf(request);
      if (!credential) throw unauthenticated("no session: log in, or send Authorization: Bearer <token>");
      const { token, via } = credential;
      // A kiosk token comes as Bearer only (a wall screen's script); never as the cookie.
      const identity = await identify(token, { kiosk: via === "bearer" });
      if (identity.kiosk && !KIOSK_METHODS.has(request.method)) throw forbidden("a kiosk token may only look: log in as a user to change anything");
      request.user = identity.user;
      request.kiosk = identity.kiosk;
      request.sessionToken = identity.kiosk ? null : token;
      request.sessionVia = via;
      request.sessionCsrfHash = identity.csrfHash;
    });

    app.decorate("requireRole", (...roles: Role[]) => {
      return async function requireRole(request: FastifyRequest) {
        if (!request.user) throw unauthenticated("no session");
        if (!roles.includes(request.user.role)) throw forbidden(`this needs the role ${roles.join(" or ")}; you are ${request.user.role}`);
      };
    });
  },
  { name: "auth", dependencies: ["ports", "repositories", "sessions", "@fastify/cookie"] },
);
