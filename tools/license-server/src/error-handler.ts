import type { FastifyError, FastifyInstance } from "fastify";
import { ERROR_CODES, ServerError, type ErrorBody, type ErrorCode } from "./errors.ts";
import { FIELD_RULES, type FieldName } from "./schemas.ts";

/**
 * One error handler for the whole service: domain errors go out as they are, a refused
 * body names its field and what it must be, and a 5xx is logged with the request and
 * answered without its details.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof ServerError) return reply.code(error.statusCode).send(body(error.code, error.message));
    if (error.validation) return reply.code(400).send(body(ERROR_CODES.validation, validationMessage(error)));
    const status = error.statusCode ?? 500;
    if (status === 415) return reply.code(415).send(body(ERROR_CODES.unsupportedMediaType, "the body must be JSON (content-type: application/json)"));
    if (status < 500) return reply.code(status).send(body(codeOf(status), error.message));
    request.log.error({ err: error, method: request.method, url: request.url }, "request failed");
    return reply.code(500).send(body(ERROR_CODES.internal, "internal error"));
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send(body(ERROR_CODES.notFound, `no route ${request.method} ${request.url.split("?")[0]}`)));
}

function body(code: ErrorCode, message: string): ErrorBody {
  return { error: { code, message } };
}

function codeOf(status: number): ErrorCode {
  if (status === 401) return ERROR_CODES.unauthenticated;
  if (status === 404) return ERROR_CODES.notFound;
  if (status === 413) return ERROR_CODES.tooLarge;
  return ERROR_CODES.badRequest;
}

/** `nonce: 16–128 characters of … are needed`, from the first of Ajv's complaints. */
function validationMessage(error: FastifyError): string {
  const first = error.validation?.[0];
  const where = error.validationContext ?? "body";
  if (!first) return `${where}: ${error.message}`;
  const missing = typeof first.params.missingProperty === "string" ? first.params.missingProperty : undefined;
  const name = missing ?? first.instancePath.split("/")[1];
  if (name === undefined) return `${where}: a JSON object is needed`;
  const rule = name in FIELD_RULES ? FIELD_RULES[name as FieldName].rule : first.message ?? "not valid";
  return `${name}: ${missing ? "missing; " : ""}${rule}`;
}
