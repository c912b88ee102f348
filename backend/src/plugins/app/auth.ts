import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from "fastify";
import fp from "fastify-plugin";
import type { Role, User } from "@mcs/protocol";
import type { Actor } from "@mcs/platform";
import { forbidden, unauthenticated } from "../../errors.ts";

declare module "fastify" {
  interface FastifyInstance {
    /** onRequest hook: a live session, or 401. Sets `request.user`. */
    authenticate: onRequestAsyncHookHandler;
    /** onRequest hook (after `authenticate`): one of these roles, or 403. */
    requireRole(...roles: Role[]): onRequestAsyncHookHandler;
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
  }
}

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

    app.decorate("authenticate", async function authenticate(request: FastifyRequest, _reply: FastifyReply) {
      const credential = credentialOf(request);
      if (!credential) throw unauthenticated("no session: log in, or send Authorization: Bearer <token>");
      const { token, via } = credential;
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
      request.user = { id: user.id, username: user.username, role: user.role };
      request.sessionToken = token;
      request.sessionVia = via;
      request.sessionCsrfHash = session.csrfHash;
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
