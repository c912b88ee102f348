/** Stable error codes of the license server's API (the same names as the product's). */
export const ERROR_CODES = {
  validation: "MCS_ERR_VALIDATION",
  badRequest: "MCS_ERR_BAD_REQUEST",
  unauthenticated: "MCS_ERR_UNAUTHENTICATED",
  notFound: "MCS_ERR_NOT_FOUND",
  conflict: "MCS_ERR_CONFLICT",
  tooLarge: "MCS_ERR_TOO_LARGE",
  unsupportedMediaType: "MCS_ERR_UNSUPPORTED_MEDIA_TYPE",
  internal: "MCS_ERR_INTERNAL",
} as const;
export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

/** What every refusal looks like on the wire. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

/** A domain error: its status, code and message reach the client as they are. */
export class ServerError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "ServerError";
  }
}

export const badRequest = (message: string) => new ServerError(400, ERROR_CODES.validation, message);
export const unauthenticated = (message: string) => new ServerError(401, ERROR_CODES.unauthenticated, message);
export const notFound = (message: string) => new ServerError(404, ERROR_CODES.notFound, message);
export const conflict = (message: string) => new ServerError(409, ERROR_CODES.conflict, message);
