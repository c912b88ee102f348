import type { FastifyReply } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { LoginAnswerSchema, LoginSchema, PasswordChangeSchema, passwordProblem, UserSchema } from "@mcs/protocol";
import { hashPassword, randomSecret, verifyPassword } from "@mcs/core";
import { AppError, badRequest, ERROR_CODES, forbidden, unauthenticated } from "../../errors.ts";
import { actorOf, SESSION_COOKIE } from "../../plugins/app/auth.ts";
import { CSRF_COOKIE } from "../../plugins/app/csrf.ts";
import { SESSION_TTL_S } from "../../plugins/app/sessions.ts";
import { accountLocked, LOCKOUT } from "../../plugins/app/login-throttle.ts";
import { errorResponses, NoContentSchema, SESSION_SECURITY } from "../../lib/route-schemas.ts";

export interface AuthRoutesOptions {
  /** Mark the session cookie Secure (HTTPS only): on wherever TLS is in front. */
  secureCookies: boolean;
}

/** `POST /api/auth/login`, `POST /api/auth/logout`, `GET /api/auth/me`, `POST /api/auth/password`. */
const authRoutes: FastifyPluginAsyncZod<AuthRoutesOptions> = async (app, options) => {
  // Checked against when the username is unknown, so that the answer takes as long either way.
  let decoy: Promise<string> | undefined;
  const decoyHash = () => (decoy ??= hashPassword(randomSecret()));

  const cookieOptions = { sameSite: "strict", secure: options.secureCookies, path: "/" } as const;
  const clearCookies = (reply: FastifyReply) => {
    reply.clearCookie(SESSION_COOKIE, { ...cookieOptions, httpOnly: true });
    reply.clearCookie(CSRF_COOKIE, cookieOptions);
  };

  app.post(
    "/login",
    {
      schema: {
        tags: ["auth"],
        summary:
          "Log in: answers a token for scripts, and sets the session cookie (HttpOnly) and the CSRF cookie mcs_csrf (readable: echo it in x-csrf-token) for browsers. " +
          `${LOCKOUT.maxFailures} failed logins in a row lock the account for ${LOCKOUT.lockMs / 60_000} min (423, Retry-After); ` +
          "too many from one address are refused (429)",
        body: LoginSchema,
        response: { 200: LoginAnswerSchema, ...errorResponses(400, 401, 403, 423, 429) },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const now = app.clock.now();
      const user = await app.users.findByUsername(username);
      // A locked account answers so whatever the password (an unknown username the same way).
      const lockedUntil = user ? user.locked_until : await app.loginThrottle.unknownLockedUntil(username);
      if (lockedUntil !== null && lockedUntil > now) throw accountLocked(lockedUntil, now);
      await app.loginThrottle.check(username, request.ip);

      const matches = await verifyPassword(password, user?.password_hash ?? (await decoyHash()));
      if (!user || !matches) {
        await app.loginThrottle.fail(username, request.ip);
        const locks = user ? await app.users.recordFailedLogin(user.id, LOCKOUT, now, request.ip) : await app.loginThrottle.failUnknown(username);
        request.log.info({ username, ip: request.ip, locked: locks !== null }, "login failed");
        if (locks !== null) throw accountLocked(locks, now);
        throw new AppError(401, ERROR_CODES.badCredentials, "wrong username or password");
      }
      // Said only to whoever knows the password.
      if (user.disabled) throw forbidden("this account is disabled: ask an administrator");
      await app.users.recordSuccessfulLogin(user.id);
      await app.loginThrottle.clear(username, request.ip);
      const session = await app.sessions.open(user.id);
      reply.setCookie(SESSION_COOKIE, session.token, { ...cookieOptions, httpOnly: true, maxAge: SESSION_TTL_S });
      reply.setCookie(CSRF_COOKIE, session.csrf, { ...cookieOptions, httpOnly: false, maxAge: SESSION_TTL_S });
      request.log.info({ username, ip: request.ip }, "logged in");
      return { token: session.token, user: { id: user.id, username: user.username, role: user.role } };
    },
  );

  app.post(
    "/logout",
    {
      onRequest: app.authenticate,
      schema: {
        tags: ["auth"],
        summary: "End this session; clears the session and CSRF cookies",
        security: SESSION_SECURITY,
        response: { 204: NoContentSchema, ...errorResponses(401, 403) },
      },
    },
    async (request, reply) => {
      if (request.sessionToken) await app.sessions.revoke(request.sessionToken);
      clearCookies(reply);
      return reply.code(204).send(null);
    },
  );

  app.get(
    "/me",
    {
      onRequest: app.authenticate,
      schema: { tags: ["auth"], summary: "Who this session belongs to, with the role", security: SESSION_SECURITY, response: { 200: UserSchema, ...errorResponses(401) } },
    },
    async (request) => request.user!,
  );

  app.post(
    "/password",
    {
      onRequest: app.authenticate,
      schema: {
        tags: ["auth"],
        summary:
          "Change your own password (any role): the current one, and a new one that meets the policy (10+ characters, 3 of lower/upper/digit/other, " +
          "not the username, not a common password). Ends your other sessions; this one stays",
        security: SESSION_SECURITY,
        body: PasswordChangeSchema,
        response: { 204: NoContentSchema, ...errorResponses(400, 401, 403, 429) },
      },
    },
    async (request, reply) => {
      const me = request.user!;
      const { current_password, new_password } = request.body;
      // Guessing the current password through a session is braked like guessing it at the login.
      await app.loginThrottle.check(me.username, request.ip);
      const record = await app.users.findByUsername(me.username);
      if (!record) throw unauthenticated("the session's user no longer exists");
      if (!(await verifyPassword(current_password, record.password_hash))) {
        await app.loginThrottle.fail(me.username, request.ip);
        throw badRequest("body.current_password: wrong password");
      }
      const problem = passwordProblem(new_password, me.username);
      if (problem) throw badRequest(`body.new_password: ${problem.message}`);
      if (new_password === current_password) throw badRequest("body.new_password: must differ from the current password");
      const changed = await app.users.setPassword(me.id, await hashPassword(new_password), "user.password.change", actorOf(request), app.clock.now());
      if (!changed) throw unauthenticated("the session's user no longer exists");
      await app.loginThrottle.clear(me.username, request.ip);
      const ended = await app.sessions.revokeUser(me.id, request.sessionToken ?? undefined);
      request.log.info({ username: me.username, ended }, "password changed; other sessions ended");
      return reply.code(204).send(null);
    },
  );
};

export default authRoutes;
