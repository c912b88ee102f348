import { timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { forbidden } from "../../errors.ts";
import { sha256Hex } from "../../lib/token.ts";

/** The CSRF token's cookie: readable by the page's script (not HttpOnly), which echoes it in CSRF_HEADER. */
export const CSRF_COOKIE = "mcs_csrf";
export const CSRF_HEADER = "x-csrf-token";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
export const CSRF_MESSAGE = `missing or wrong CSRF token: send the ${CSRF_COOKIE} cookie's value in ${CSRF_HEADER}`;

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Whether a state-changing request that came with the session cookie proves it was sent by our own page. */
export function csrfTokenValid(request: FastifyRequest): boolean {
  const header = request.headers[CSRF_HEADER];
  const cookie = request.cookies[CSRF_COOKIE];
  if (typeof header !== "string" || !header || !cookie || !request.sessionCsrfHash) return false;
  // Double submit (the header equals the cookie), and the token is this session's own:
  // a cookie planted by a neighbouring site cannot stand in for it.
  return same(header, cookie) && same(sha256Hex(header), request.sessionCsrfHash);
}

/**
 * CSRF protection for cookie sessions (double submit): a POST, PUT, PATCH or DELETE
 * authenticated by the session cookie must carry `x-csrf-token` equal to the `mcs_csrf`
 * cookie set at login, else 403. Requests with `Authorization: Bearer` carry no ambient
 * credential and are exempt; so is anything not authenticated (the login itself).
 * Runs after the routes' onRequest hooks (`authenticate`, which says how the session came)
 * and before the body is read.
 */
export const csrfPlugin = fp(
  async (app) => {
    app.addHook("preParsing", async (request, _reply, payload) => {
      if (!SAFE_METHODS.has(request.method) && request.sessionVia === "cookie" && !csrfTokenValid(request)) throw forbidden(CSRF_MESSAGE);
      return payload;
    });
  },
  { name: "csrf", dependencies: ["auth", "@fastify/cookie"] },
);
