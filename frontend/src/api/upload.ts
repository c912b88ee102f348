import { ApiError, csrfHeaders, failureOf, parseJson, urlOf, type RequestOptions } from "./http.ts";

/** Where an upload is: the body still going up, or sent and the server at work on it. */
export type UploadPhase = "uploading" | "processing";

export interface UploadProgress {
  phase: UploadPhase;
  /** Bytes sent so far. */
  loaded: number;
  /** The body's size, when the browser knows it. */
  total: number | null;
  /** 0–100 while uploading with a known size (100 once sent); null while the size is unknown. */
  percent: number | null;
}

/** What of XMLHttpRequest an upload uses (a test hands in its own). */
export interface UploadRequest {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: FormData | Blob): void;
  readonly upload: {
    onprogress: ((event: { loaded: number; total: number; lengthComputable: boolean }) => void) | null;
    onload: (() => void) | null;
  };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
  ontimeout: (() => void) | null;
  readonly status: number;
  readonly statusText: string;
  readonly responseText: string;
}

export interface UploadOptions {
  query?: RequestOptions["query"];
  /** Called as the body goes up, then once with `processing` when it is all sent. */
  onProgress?: (progress: UploadProgress) => void;
  /** For tests: makes the request (default: an XMLHttpRequest). */
  createRequest?: () => UploadRequest;
  /** For tests: the CSRF header (default: from the backend's cookie, as every other change). */
  headers?: Record<string, string>;
}

/** 0–100, rounded down: 100 only once every byte is sent. */
export function percentOf(loaded: number, total: number | null): number | null {
  if (total === null || total <= 0) return null;
  return Math.min(100, Math.floor((loaded / total) * 100));
}

/**
 * Sends a file (FormData or Blob) as the API client does (the session cookie, the CSRF
 * header, the API's error message as an ApiError, a lost session or a locked license to the
 * app's handlers), through XMLHttpRequest, since fetch reports no upload progress.
 */
export function upload<T>(method: string, path: string, body: FormData | Blob, options: UploadOptions = {}): Promise<T> {
  const { onProgress } = options;
  const size = body instanceof Blob ? body.size : null;
  return new Promise<T>((resolve, reject) => {
    const request = options.createRequest?.() ?? (new XMLHttpRequest() as unknown as UploadRequest);
    let phase: UploadPhase = "uploading";
    let sent = 0;

    request.upload.onprogress = (event) => {
      if (phase !== "uploading") return;
      const total = event.lengthComputable && event.total > 0 ? event.total : size;
      sent = event.loaded;
      onProgress?.({ phase, loaded: event.loaded, total, percent: percentOf(event.loaded, total) });
    };
    // Every byte is sent: what is left is the server's work.
    const processing = () => {
      if (phase === "processing") return;
      phase = "processing";
      const total = size ?? (sent > 0 ? sent : null);
      onProgress?.({ phase, loaded: total ?? sent, total, percent: total === null ? null : 100 });
    };
    request.upload.onload = processing;

    request.onload = () => {
      processing();
      const { status } = request;
      if (status === 204) return resolve(undefined as T);
      const text = request.responseText;
      const data: unknown = text ? parseJson(text) : undefined;
      if (status >= 200 && status < 300) resolve(data as T);
      else reject(failureOf(status, request.statusText, data));
    };
    const lost = (what: string) => () => reject(new ApiError(0, "network", what));
    request.onerror = lost("the upload did not reach the server");
    request.ontimeout = lost("the upload timed out");
    request.onabort = lost("the upload was cancelled");

    request.open(method, urlOf(path, options.query));
    const headers = { accept: "application/json", ...(options.headers ?? csrfHeaders(method)) };
    for (const [name, value] of Object.entries(headers)) request.setRequestHeader(name, value);
    onProgress?.({ phase, loaded: 0, total: size, percent: percentOf(0, size) });
    // A FormData body sets its own multipart type and boundary; a Blob goes with its own type.
    request.send(body);
  });
}
