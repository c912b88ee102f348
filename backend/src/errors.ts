/** Stable error codes of the REST API: clients branch on these, never on messages. */
export const ERROR_CODES = {
  validation: "MCS_ERR_VALIDATION",
  badRequest: "MCS_ERR_BAD_REQUEST",
  unauthenticated: "MCS_ERR_UNAUTHENTICATED",
  badCredentials: "MCS_ERR_BAD_CREDENTIALS",
  forbidden: "MCS_ERR_FORBIDDEN",
  notFound: "MCS_ERR_NOT_FOUND",
  conflict: "MCS_ERR_CONFLICT",
  tooLarge: "MCS_ERR_TOO_LARGE",
  unsupportedMediaType: "MCS_ERR_UNSUPPORTED_MEDIA_TYPE",
  tooManyAttempts: "MCS_ERR_TOO_MANY_ATTEMPTS",
  internal: "MCS_ERR_INTERNAL",
  unavailable: "MCS_ERR_UNAVAILABLE",
  license: "MCS_ERR_LICENSE",
} as const;
export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

/** A domain error: its status, code and message reach the client as they are. */
export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    /** Extra response headers, such as Retry-After. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "AppError";
  }
}

export const badRequest = (message: string) => new AppError(400, ERROR_CODES.validation, message);
export const unauthenticated = (message: string) => new AppError(401, ERROR_CODES.unauthenticated, message);
export const forbidden = (message: string) => new AppError(403, ERROR_CODES.forbidden, message);
export const notFound = (message: string) => new AppError(404, ERROR_CODES.notFound, message);
export const conflict = (message: string) => new AppError(409, ERROR_CODES.conflict, message);
export const unavailable = (message: string) => new AppError(503, ERROR_CODES.unavailable, message);
