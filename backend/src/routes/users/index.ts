import { z } from "zod";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { passwordProblem, PasswordResetSchema, UserAccountListSchema, UserAccountSchema, UserCreateSchema, UserPatchSchema } from "@mcs/protocol";
import { hashPassword } from "@mcs/core";
import { LastAdminError, UserConflictError } from "@mcs/platform";
import { badRequest, conflict, notFound } from "../../errors.ts";
import { actorOf } from "../../plugins/app/auth.ts";
import { errorResponses, NoContentSchema, SESSION_SECURITY } from "../../lib/route-schemas.ts";

const MAX_ID = 2_147_483_647;
const UserParamsSchema = z.object({
  id: z
    .string()
    .regex(/^[1-9]\d{0,9}$/, "id is a user id (a positive whole number)")
    .transform(Number)
    .refine((id) => id <= MAX_ID, "id is a user id (a positive whole number)"),
});

/**
 * `/api/users` (admin): people's accounts. Passwords meet the policy and are stored hashed;
 * a role change, disabling, a password reset or a deletion ends the user's sessions at
 * once; the last enabled admin can be neither demoted, disabled nor deleted. Every change is
 * audited (never a password or its hash).
 */
const usersRoutes: FastifyPluginAsyncZod = async (app) => {
  app.addHook("onRequest", app.authenticate);
  app.addHook("onRequest", app.requireRole("admin"));
  const tags = ["users"];
  const security = SESSION_SECURITY;

  /** Runs a store change, turning its refusals into answers. */
  async function guarded<T>(change: () => Promise<T | null>, id: number): Promise<T> {
    let result: T | null;
    try {
      result = await change();
    } catch (error) {
      if (error instanceof LastAdminError || error instanceof UserConflictError) throw conflict(error.message);
      throw error;
    }
    if (result === null) throw notFound(`no user ${id}`);
    return result;
  }

  app.get(
    "",
    {
      schema: {
        tags, security,
        summary: "All users with their role, whether disabled or locked, and when their password was set",
        response: { 200: UserAccountListSchema, ...errorResponses(401, 403) },
      },
    },
    async () => ({ data: await app.users.list(app.clock.now()) }),
  );

  app.post(
    "",
    {
      schema: {
        tags, security,
        summary: "Add a user; the password must meet the policy (10+ characters, 3 of lower/upper/digit/other, not the username, not a common password). 409 when the name is taken (whatever its case)",
        body: UserCreateSchema,
        response: { 201: UserAccountSchema, ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const { username, password, role } = request.body;
      const problem = passwordProblem(password, username);
      if (problem) throw badRequest(`body.password: ${problem.message}`);
      const now = app.clock.now();
      let id: number;
      try {
        ({ id } = await app.users.create(username, await hashPassword(password), role, actorOf(request), now));
      } catch (error) {
        if (error instanceof UserConflictError) throw conflict(error.message);
        throw error;
      }
      return reply.code(201).send((await app.users.account(id, now))!);
    },
  );

  app.patch(
    "/:id",
    {
      schema: {
        tags, security,
        summary: "Change a user's role or disable / enable them; a new role or disabling ends their sessions at once. 409 for the last enabled admin",
        params: UserParamsSchema,
        body: UserPatchSchema,
        response: { 200: UserAccountSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const { id } = request.params;
      const { account, revoke } = await guarded(() => app.users.update(id, request.body, actorOf(request), app.clock.now()), id);
      if (revoke) await app.sessions.revokeUser(id);
      return account;
    },
  );

  app.post(
    "/:id/password",
    {
      schema: {
        tags, security,
        summary: "Set a user's password (an admin's reset): it must meet the policy; lifts a lock-out and ends the user's sessions (but the caller's own)",
        params: UserParamsSchema,
        body: PasswordResetSchema,
        response: { 204: NoContentSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const target = await app.users.get(id);
      if (!target) throw notFound(`no user ${id}`);
      const problem = passwordProblem(request.body.password, target.username);
      if (problem) throw badRequest(`body.password: ${problem.message}`);
      const hash = await hashPassword(request.body.password);
      await guarded(() => app.users.setPassword(id, hash, "user.password.reset", actorOf(request), app.clock.now()), id);
      await app.sessions.revokeUser(id, id === request.user!.id ? (request.sessionToken ?? undefined) : undefined);
      return reply.code(204).send(null);
    },
  );

  app.post(
    "/:id/unlock",
    {
      schema: {
        tags, security,
        summary: "Lift a lock-out after repeated failed logins (the per-address brake stays until its window ends)",
        params: UserParamsSchema,
        response: { 200: UserAccountSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { id } = request.params;
      return guarded(() => app.users.unlock(id, actorOf(request), app.clock.now()), id);
    },
  );

  app.delete(
    "/:id",
    {
      schema: {
        tags, security,
        summary: "Delete a user and end their sessions; not yourself, not the last enabled admin (409)",
        params: UserParamsSchema,
        response: { 204: NoContentSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      if (id === request.user!.id) throw conflict("you cannot delete yourself: another admin can");
      await guarded(() => app.users.delete(id, actorOf(request), app.clock.now()), id);
      await app.sessions.revokeUser(id);
      return reply.code(204).send(null);
    },
  );
};

export default usersRoutes;
