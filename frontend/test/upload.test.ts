import { describe, expect, it } from "vitest";
import { ApiError, setLicenseLockedHandler, setUnauthenticatedHandler } from "../src/api/http.ts";
import { percentOf, upload, type UploadProgress, type UploadRequest } from "../src/api/upload.ts";

/** An XMLHttpRequest that does what the test says, when it says. */
class FakeRequest implements UploadRequest {
  method = "";
  url = "";
  headers: Record<string, string> = {};
  body: FormData | Blob | null = null;
  readonly upload: UploadRequest["upload"] = { onprogress: null, onload: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  ontimeout: (() => void) | null = null;
  status = 0;
  statusText = "";
  responseText = "";

  open(method: string, url: string): void {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name: string, value: string): void {
    this.headers[name] = value;
  }
  send(body: FormData | Blob): void {
    this.body = body;
  }
  progress(loaded: number, total: number, lengthComputable = true): void {
    this.upload.onprogress?.({ loaded, total, lengthComputable });
  }
  sent(): void {
    this.upload.onload?.();
  }
  answer(status: number, body: unknown, statusText = ""): void {
    this.status = status;
    this.statusText = statusText;
    this.responseText = body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body);
    this.onload?.();
  }
}

function start<T>(body: FormData | Blob, query?: Record<string, string>) {
  const request = new FakeRequest();
  const seen: UploadProgress[] = [];
  const answer = upload<T>("POST", "/api/devices/import", body, {
    query,
    onProgress: (progress) => seen.push(progress),
    createRequest: () => request,
    headers: { "x-csrf-token": "csrf-1" },
  });
  return { request, seen, answer };
}

describe("uploads with progress", () => {
  it("rounds the per cent down, so 100 only once every byte is sent", () => {
    expect(percentOf(0, 200)).toBe(0);
    expect(percentOf(199, 200)).toBe(99);
    expect(percentOf(200, 200)).toBe(100);
    expect(percentOf(250, 200)).toBe(100);
    expect(percentOf(10, null)).toBeNull();
    expect(percentOf(10, 0)).toBeNull();
  });

  it("sends the body with the query, the CSRF header and JSON accepted, reports the bytes going up, then processing, then the answer", async () => {
    const csv = new Blob(["sn\nA1\n".repeat(100)], { type: "text/csv" });
    const { request, seen, answer } = start<{ created: number }>(csv, { dry_run: "true" });
    expect(request.method).toBe("POST");
    expect(request.url).toBe("/api/devices/import?dry_run=true");
    expect(request.headers).toEqual({ accept: "application/json", "x-csrf-token": "csrf-1" });
    expect(request.body).toBe(csv);
    expect(seen).toEqual([{ phase: "uploading", loaded: 0, total: csv.size, percent: 0 }]);

    request.progress(300, 700);
    request.progress(700, 700);
    request.sent();
    expect(seen.slice(1)).toEqual([
      { phase: "uploading", loaded: 300, total: 700, percent: 42 },
      { phase: "uploading", loaded: 700, total: 700, percent: 100 },
      { phase: "processing", loaded: csv.size, total: csv.size, percent: 100 },
    ]);
    // A late progress event changes nothing: the server has the file.
    request.progress(700, 700);
    expect(seen).toHaveLength(4);

    request.answer(200, { created: 2 });
    await expect(answer).resolves.toEqual({ created: 2 });
    expect(seen).toHaveLength(4);
  });

  it("uses the Blob's size when the browser cannot tell the length, and knows no per cent of a form whose size it is not told", async () => {
    const blob = new Blob(["x".repeat(1000)]);
    const first = start(blob);
    first.request.progress(250, 0, false);
    expect(first.seen.at(-1)).toEqual({ phase: "uploading", loaded: 250, total: 1000, percent: 25 });
    first.request.answer(204, undefined);
    await expect(first.answer).resolves.toBeUndefined();
    // No upload.onload before the answer (some browsers skip it): processing is reported all the same.
    expect(first.seen.at(-1)?.phase).toBe("processing");

    const form = new FormData();
    form.append("name", "plan");
    const second = start(form);
    expect(second.seen[0]).toEqual({ phase: "uploading", loaded: 0, total: null, percent: null });
    second.request.progress(40, 0, false);
    expect(second.seen.at(-1)).toEqual({ phase: "uploading", loaded: 40, total: null, percent: null });
    second.request.sent();
    expect(second.seen.at(-1)).toEqual({ phase: "processing", loaded: 40, total: 40, percent: 100 });
    second.request.answer(201, { id: 1 });
    await expect(second.answer).resolves.toEqual({ id: 1 });
  });

  it("rejects with the API's own code and message, as every other request does", async () => {
    const { request, answer } = start(new Blob(["sn\n"]));
    request.answer(400, { error: { code: "MCS_ERR_VALIDATION", message: "the file has no rows" } }, "Bad Request");
    const error = await answer.catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 400, code: "MCS_ERR_VALIDATION", message: "the file has no rows" });
  });

  it("names the HTTP status when the answer is not the API's (a proxy's 413 page)", async () => {
    const { request, answer } = start(new Blob(["sn\n"]));
    request.answer(413, "<html>Request Entity Too Large</html>", "Payload Too Large");
    await expect(answer).rejects.toMatchObject({ status: 413, code: "HTTP_413", message: "Payload Too Large" });
  });

  it("hands a lost session and a locked license to the app, as the API client does", async () => {
    const calls: string[] = [];
    setUnauthenticatedHandler(() => calls.push("login"));
    setLicenseLockedHandler((message) => calls.push(`license: ${message}`));
    try {
      const lost = start(new Blob(["sn\n"]));
      lost.request.answer(401, { error: { code: "MCS_ERR_UNAUTHENTICATED", message: "no session" } });
      await expect(lost.answer).rejects.toMatchObject({ status: 401 });
      const locked = start(new Blob(["sn\n"]));
      locked.request.answer(403, { error: { code: "MCS_ERR_LICENSE", message: "the license has expired" } });
      await expect(locked.answer).rejects.toMatchObject({ code: "MCS_ERR_LICENSE" });
      expect(calls).toEqual(["login", "license: the license has expired"]);
    } finally {
      setUnauthenticatedHandler(() => {});
      setLicenseLockedHandler(() => {});
    }
  });

  it("rejects a server that cannot be reached as a network error", async () => {
    const { request, answer } = start(new Blob(["sn\n"]));
    request.onerror?.();
    await expect(answer).rejects.toMatchObject({ status: 0, code: "network" });
  });
});
