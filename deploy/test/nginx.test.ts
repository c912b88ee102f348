import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { MAX_FIRMWARE_BYTES, MAX_FLOORPLAN_BYTES } from "@mcs/protocol";
import { MAX_LICENSE_FILE_BYTES } from "@mcs/core";
import { BODY_LIMIT_BYTES } from "../../backend/src/app.ts";
import { ensureCertificates } from "../../packages/platform/src/broker/certs.ts";
import { localNginxConfig, NGINX, NGINX_CONF, nginxArgs } from "../../test-support/nginx.ts";
import { MAX_DEVICE_CSV_BYTES } from "../../backend/src/routes/devices/import.ts";

const run = promisify(execFile);

// Issue 14: Debian's nginx checks the project's config (`nginx -t`), with only what names
// the container's world moved (test-support/nginx.ts). stack.e2e.test.ts runs it for real.
describe("deploy/nginx/nginx.conf", () => {
  const dir = mkdtempSync(join(tmpdir(), "mcs-nginx-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const check = async (conf: string) => {
    writeFileSync(join(dir, "nginx.conf"), conf);
    return run(NGINX, ["-t", ...nginxArgs(dir)]).then(
      ({ stderr }) => ({ ok: true, out: stderr }),
      (error: { stderr: string }) => ({ ok: false, out: error.stderr }),
    );
  };
  const localised = async () => {
    mkdirSync(join(dir, "logs"), { recursive: true });
    await ensureCertificates(join(dir, "certs"));
    return localNginxConfig({ dir, backend: "127.0.0.1:8080", httpPort: 8081, httpsPort: 8443, site: dir });
  };

  it("passes nginx -t", async () => {
    const result = await check(await localised());
    expect(result.out).toContain("syntax is ok");
    expect(result).toMatchObject({ ok: true, out: expect.stringContaining("test is successful") });
  });

  it("hides its version, sends browsers to HTTPS and keeps them there", () => {
    const conf = readFileSync(NGINX_CONF, "utf8");
    expect(conf).toMatch(/^\s*server_tokens off;$/m);
    expect(conf).toMatch(/listen 80;(?:(?!listen 443)[\s\S])*location \/ \{\s*return 301 https:\/\/\$host\$request_uri;/);
    expect(conf).toMatch(/add_header Strict-Transport-Security "max-age=31536000" always;/);
  });

  it("lets through a little more than each route of the API takes, so that the API's own error answers a file just too large", () => {
    const conf = readFileSync(NGINX_CONF, "utf8");
    const limit = (location: string) => {
      const block = location ? conf.slice(conf.indexOf(`location ${location} {`)) : conf.slice(conf.indexOf("listen 443"));
      const [, size, unit] = /client_max_body_size (\d+)([km]);/.exec(block.slice(0, block.indexOf("}"))) ?? [];
      return Number(size) * (unit === "m" ? 1024 * 1024 : 1024);
    };
    const routes: [string, number][] = [["", Math.max(BODY_LIMIT_BYTES, MAX_LICENSE_FILE_BYTES)], ["/api/firmware", MAX_FIRMWARE_BYTES + 64 * 1024], ["/api/floorplans", MAX_FLOORPLAN_BYTES + 64 * 1024], ["= /api/devices/import", MAX_DEVICE_CSV_BYTES]];
    for (const [location, api] of routes) {
      expect(limit(location), location || "server").toBeGreaterThan(api);
      expect(limit(location), location || "server").toBeLessThanOrEqual(2 * api);
    }
  });

  it("would fail on a broken config (the check is real)", async () => {
    const result = await check((await localised()).replace("proxy_http_version 1.1;", "proxy_http_version;"));
    expect(result).toMatchObject({ ok: false, out: expect.stringMatching(/invalid number of arguments in "proxy_http_version"/) });
  });
});
