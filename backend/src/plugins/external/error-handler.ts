import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import type { ErrorBody } from "@mcs/protocol";
import { AppError, ERROR_CODES, type ErrorCode } from "../../errors.ts";
import { validationMessage } from "../../lib/validation-message.ts";

/** Fastify's own 4xx errors (bad JSON, wrong content type, body too large…) by status. */
const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: ERROR_CODES.badRequest,
  401: ERROR_CODES.unauthenticated,
  403: ERROR_CODES.forbidden,
  404: ERROR_CODES.notFound,
  409: ERROR_CODES.conflict,
  413: ERROR_CODES.tooLarge,
  415: ERROR_CODES.unsupportedMediaType,
  429: ERROR_CODES.tooManyAttempts,
};

function send(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  const body: ErrorBody = { error: { code, message } };
  return reply.code(status).type("application/json").send(body);
}

/**
 * The one error handler: every error becomes `{"error":{"code","message"}}` with its
 * status. Client errors say what was wrong; a server error is logged with the request's
 * context and answered without details.
 */
export const errorHandlerPlugin = fp(
  async (app) => {
    app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      if (error instanceof AppError) {
        if (error.statusCode >= 500) request.log.warn({ code: error.code, msg: error.message }, "service unavailable");
        return send(reply.headers(error.headers), error.statusCode, error.code, error.message);
      }
      if (error.validation) {
        return send(reply, 400, ERROR_CODES.validation, validationMessage(error.validation, error.validationContext));
      }
      const status = error.statusCode ?? 500;
      if (status >= 400 && status < 500) {
        return send(reply, status, CODE_BY_STATUS[status] ?? ERROR_CODES.badRequest, error.message);
      }
      request.log.error(
        { err: error, method: request.method, url: request.routeOptions.url ?? request.url, user: request.user?.username, ip: request.ip },
        "request failed",
      );
      return send(reply, 500, ERROR_CODES.internal, "internal error; the server log has the details");
    });

    app.setNotFoundHandler((request, reply) => send(reply, 404, ERROR_CODES.notFound, `no route ${request.method} ${request.url.split("?")[0]}`));
  },
  { name: "error-handler" },
);
