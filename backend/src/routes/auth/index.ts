import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { LoginAnswerSchema, LoginSchema, UserSchema } from "@mcs/protocol";
import { hashPassword, randomSecret, verifyPassword } from "@mcs/core";
import { AppError, ERROR_CODES } from "../../errors.ts";
import { SESSION_COOKIE } from "../../plugins/app/auth.ts";
import { SESSION_TTL_S } from "../../plugins/app/sessions.ts";
import { errorResponses, NoContentSchema, SESSION_SECURITY } from "../../lib/route-schemas.ts";

export interface AuthRoutesOptions {
  /** Mark the session cookie Secure (HTTPS only): on wherever TLS is in front. */
  secureCookies: boolean;
}

/** `POST /api/auth/login`, `POST /api/auth/logout`, `GET /api/auth/me`. */
const authRoutes: FastifyPluginAsyncZod<AuthRoutesOptions> = async (app, options) => {
  // Checked against when the username is unknown, so that the answer takes as long either way.
  let decoy: Promise<string> | undefined;
  const decoyHash = () => (decoy ??= hashPassword(randomSecret()));

  app.post(
    "/login",
    {
      schema: {
        tags: ["auth"],
        summary: "Log in: answers a token for scripts and sets the session cookie for browsers",
        body: LoginSchema,
        response: { 200: LoginAnswerSchema, ...errorResponses(400, 401, 429) },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      await app.loginThrottle.check(username, request.ip);
      const user = await app.users.findByUsername(username);
      const matches = await verifyPassword(password, user?.password_hash ?? (await decoyHash()));
      if (!user || !matches) {
        await app.loginThrottle.fail(username, request.ip);
        request.log.info({ username, ip: request.ip }, "login failed");
        throw new AppError(401, ERROR_CODES.badCredentials, "wrong username or password");
      }
      await app.loginThrottle.clear(username, request.ip);
      const token = await app.sessions.create(user.id);
      reply.setCookie(SESSION_COOKIE, token, {
        httpOnly: true,
        sameSite: "strict",
        secure: options.secureCookies,
        path: "/",
        maxAge: SESSION_TTL_S,
      });
      request.log.info({ username, ip: request.ip }, "logged in");
      return { token, user: { id: user.id, username: user.username, role: user.role } };
    },
  );

  app.post(
    "/logout",
    {
      onRequest: app.authenticate,
      schema: { tags: ["auth"], summary: "End this session", security: SESSION_SECURITY, response: { 204: NoContentSchema, ...errorResponses(401) } },
    },
    async (request, reply) => {
      if (request.sessionToken) await app.sessions.revoke(request.sessionToken);
      reply.clearCookie(SESSION_COOKIE, { path: "/" });
      return reply.code(204).send(null);
    },
  );

  app.get(
    "/me",
    {
      onRequest: app.authenticate,
      schema: { tags: ["auth"], summary: "Who this session belongs to", security: SESSION_SECURITY, response: { 200: UserSchema, ...errorResponses(401) } },
    },
    async (request) => request.user!,
  );
};

export default authRoutes;
