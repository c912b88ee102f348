import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { brotliCompressSync, gunzipSync, gzipSync } from "node:zlib";
import { join } from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorHandlerPlugin } from "../../backend/src/plugins/external/error-handler.ts";
import { frontendPlugin } from "../../backend/src/plugins/external/frontend.ts";

/** How the backend serves the built site: files, the SPA fallback, caching, and the API's own 404. */
describe("serving the frontend", () => {
  let app: FastifyInstance;
  let root: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "mcs-dist-"));
    mkdirSync(join(root, "assets"));
    writeFileSync(join(root, "index.html"), "<!doctype html><title>app</title>");
    writeFileSync(join(root, "assets", "index-abc123.js"), "console.log(1)");
    // As the build's precompress step leaves them.
    const big = `export const text = ${JSON.stringify("气体浓度 ".repeat(500))};`;
    writeFileSync(join(root, "assets", "vendor-def456.js"), big);
    writeFileSync(join(root, "assets", "vendor-def456.js.gz"), gzipSync(big));
    writeFileSync(join(root, "assets", "vendor-def456.js.br"), brotliCompressSync(big));
    app = Fastify();
    await app.register(errorHandlerPlugin);
    app.get("/api/devices", async () => ({ data: [] }));
    await app.register(frontendPlugin, { root });
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("answers the app's pages with index.html, checked again at every load, under a content security policy", async () => {
    for (const url of ["/", "/login", "/devices", "/devices/A001?tab=alarms", "/alarms/"]) {
      const res = await app.inject({ method: "GET", url });
      expect({ url, status: res.statusCode, type: res.headers["content-type"], body: res.body }).toEqual({
        url, status: 200, type: "text/html; charset=utf-8", body: "<!doctype html><title>app</title>",
      });
      expect(res.headers["cache-control"]).toBe("no-cache");
      expect(res.headers["content-security-policy"]).toContain("script-src 'self'");
    }
    expect((await app.inject({ method: "HEAD", url: "/devices" })).statusCode).toBe(200);
  });

  it("serves hashed assets cached for a year, and a missing asset as 404 rather than the page", async () => {
    const asset = await app.inject({ method: "GET", url: "/assets/index-abc123.js" });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers["content-type"]).toMatch(/javascript/);
    expect(asset.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    const missing = await app.inject({ method: "GET", url: "/assets/index-gone.js" });
    expect({ status: missing.statusCode, code: missing.json().error.code }).toEqual({ status: 404, code: "MCS_ERR_NOT_FOUND" });
  });

  it("sends the build's pre-compressed files to browsers that take them, and the plain file to others", async () => {
    const br = await app.inject({ method: "GET", url: "/assets/vendor-def456.js", headers: { "accept-encoding": "gzip, deflate, br" } });
    expect(br.headers["content-encoding"]).toBe("br");
    expect(br.rawPayload.length).toBeLessThan(1000);
    const gz = await app.inject({ method: "GET", url: "/assets/vendor-def456.js", headers: { "accept-encoding": "gzip" } });
    expect(gz.headers["content-encoding"]).toBe("gzip");
    expect(gunzipSync(gz.rawPayload).toString()).toContain("气体浓度");
    const plain = await app.inject({ method: "GET", url: "/assets/vendor-def456.js" });
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(plain.body).toContain("气体浓度");
  });

  it("leaves /api to the API: its routes, and its JSON 404 for the rest", async () => {
    expect((await app.inject({ method: "GET", url: "/api/devices" })).json()).toEqual({ data: [] });
    for (const url of ["/api/nothing-here", "/api", "/api/devices/x/y/z"]) {
      const res = await app.inject({ method: "GET", url });
      expect({ url, status: res.statusCode, body: res.json() }).toEqual({ url, status: 404, body: { error: { code: "MCS_ERR_NOT_FOUND", message: expect.stringMatching(/^no route GET/) } } });
    }
    // Only reads fall back to the page.
    expect((await app.inject({ method: "POST", url: "/devices" })).statusCode).toBe(404);
  });

  it("never serves a file outside the build", async () => {
    for (const url of ["/../package.json", "/assets/../../package.json", "/%2e%2e/%2e%2e/package.json", "/assets/..%2f..%2fpackage.json"]) {
      const res = await app.inject({ method: "GET", url });
      expect(res.body, url).not.toContain('"name"');
      expect([200, 403, 404], url).toContain(res.statusCode);
    }
  });

  it("serves nothing (and the API still answers) when the frontend has not been built", async () => {
    const bare = Fastify({ logger: false });
    await bare.register(errorHandlerPlugin);
    await bare.register(frontendPlugin, { root: join(root, "no-such-dir") });
    const res = await bare.inject({ method: "GET", url: "/devices" });
    expect(res.statusCode).toBe(404);
    await bare.close();
  });
});
