import type { ErrorBody } from "@mcs/protocol";

/** The double-submit cookie the backend sets for cookie sessions; echoed in a header on every change. */
const CSRF_COOKIE = "mcs_csrf";
const CSRF_HEADER = "x-csrf-token";

/** An answer that was not 2xx (status 0: the server could not be reached). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    /** The API's stable code (`MCS_ERR_…`), or `network`. */
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }

  /**
   * The problems the message names per body field:
   * `body.k: expected number; body.high_limit_2: …` → `{ k: "expected number", high_limit_2: "…" }`.
   */
  get fieldErrors(): Record<string, string> {
    const fields: Record<string, string> = {};
    // Split only where the next field starts: a message may hold "; " of its own ("…in %LEL; give high_limit…").
    for (const part of this.message.split(/; (?=body\.)/)) {
      const match = /^body\.([A-Za-z0-9_]+)[^:]*: (.+)$/.exec(part);
      if (match?.[1] && match[2]) fields[match[1]] ??= match[2];
    }
    return fields;
  }
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** A 401 here is an answer to handle (probing the session), not a reason to leave the page. */
  allowUnauthenticated?: boolean;
  /** A wall screen's kiosk token, sent as `Authorization: Bearer` (read-only; no cookie session needed). */
  bearer?: string;
}

/** What the app does when the session is gone: set once at start (go to /login, keeping the target). */
let onUnauthenticated: () => void = () => {};
export function setUnauthenticatedHandler(handler: () => void): void {
  onUnauthenticated = handler;
}

/** The API's code for "refused: the license is locked, expired or invalid". */
export const LICENSE_LOCKED_CODE = "MCS_ERR_LICENSE";

/** What the app does when the API refuses for the license: set once at start (the lock modal shows). */
let onLicenseLocked: (message: string) => void = () => {};
export function setLicenseLockedHandler(handler: (message: string) => void): void {
  onLicenseLocked = handler;
}

/** The CSRF header a change sends (none for a GET, or before the backend set its cookie). */
export function csrfHeaders(method: string): Record<string, string> {
  const csrf = method === "GET" ? undefined : cookie(CSRF_COOKIE);
  return csrf ? { [CSRF_HEADER]: csrf } : {};
}

function cookie(name: string): string | undefined {
  const prefix = `${name}=`;
  const found = document.cookie.split("; ").find((part) => part.startsWith(prefix));
  return found === undefined ? undefined : decodeURIComponent(found.slice(prefix.length));
}

/** `/api/alarms` + `{state: "open", sn: ""}` → `/api/alarms?state=open` (empty values left out). */
export function urlOf(path: string, query: RequestOptions["query"] = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== "") params.set(key, String(value));
  }
  const search = params.toString();
  return search ? `${path}?${search}` : path;
}

/**
 * The one way the app talks to the API: JSON in and out, the session cookie, the CSRF
 * header on changes, errors as ApiError with the API's own message.
 */
async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  // A FormData body (a file upload) sets its own multipart content type, boundary and all;
  // a Blob (a CSV file) is sent as it is, with its own type.
  const multipart = options.body instanceof FormData || options.body instanceof Blob;
  if (options.body !== undefined && !multipart) headers["content-type"] = "application/json";
  Object.assign(headers, csrfHeaders(method));
  if (options.bearer) headers.authorization = `Bearer ${options.bearer}`;

  let response: Response;
  try {
    response = await fetch(urlOf(path, options.query), {
      method,
      headers,
      credentials: "same-origin",
      body: options.body === undefined ? undefined : multipart ? (options.body as FormData | Blob) : JSON.stringify(options.body),
    });
  } catch (error) {
    throw new ApiError(0, "network", error instanceof Error ? error.message : String(error));
  }

  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const data: unknown = text ? parseJson(text) : undefined;
  if (response.ok) return data as T;
  throw failureOf(response.status, response.statusText, data, options.allowUnauthenticated);
}

/**
 * The ApiError of an answer that was not 2xx, with the API's own code and message; a lost
 * session and a locked license are handed to the app's handlers on the way (shared with
 * uploads, which go through XMLHttpRequest for their progress).
 */
export function failureOf(status: number, statusText: string, data: unknown, allowUnauthenticated = false): ApiError {
  const body = (data as Partial<ErrorBody> | undefined)?.error;
  const error = new ApiError(status, body?.code ?? `HTTP_${status}`, body?.message ?? statusText);
  // A wrong password is a 401 too, but with its own code: only a lost session leaves the page.
  if (status === 401 && error.code === "MCS_ERR_UNAUTHENTICATED" && !allowUnauthenticated) onUnauthenticated();
  // Not a failure of this one action: the whole app is locked until a license is installed.
  if (error.code === LICENSE_LOCKED_CODE) onLicenseLocked(error.message);
  return error;
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export const http = {
  get: <T>(path: string, options?: RequestOptions) => request<T>("GET", path, options),
  post: <T>(path: string, body?: unknown, options?: RequestOptions) => request<T>("POST", path, { ...options, body }),
  patch: <T>(path: string, body: unknown, options?: RequestOptions) => request<T>("PATCH", path, { ...options, body }),
  put: <T>(path: string, body: unknown, options?: RequestOptions) => request<T>("PUT", path, { ...options, body }),
  delete: <T = void>(path: string, options?: RequestOptions) => request<T>("DELETE", path, options),
};
