import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { MAX_FIRMWARE_BYTES, MAX_FLOORPLAN_BYTES } from "@mcs/protocol";
import { MAX_LICENSE_FILE_BYTES } from "@mcs/core";
import { BODY_LIMIT_BYTES } from "../../backend/src/app.ts";
import { MAX_DEVICE_CSV_BYTES } from "../../backend/src/routes/devices/import.ts";

const run = promisify(execFile);
const CONF = fileURLToPath(new URL("../nginx/nginx.conf", import.meta.url));
/** Debian's nginx lives in /usr/sbin, which not every user's PATH has. */
const NGINX = existsSync("/usr/sbin/nginx") ? "/usr/sbin/nginx" : "nginx";

// Issue 14: Debian's nginx checks the project's config (`nginx -t`). Only what names the
// container's world is moved for the check: the backend's address (Docker's DNS name
// `backend`), the certificates' and the logs' folders.
describe("deploy/nginx/nginx.conf", () => {
  const dir = mkdtempSync(join(tmpdir(), "mcs-nginx-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const check = async (conf: string) => {
    const file = join(dir, "nginx.conf");
    writeFileSync(file, conf);
    return run(NGINX, ["-t", "-p", dir, "-e", join(dir, "error.log"), "-c", file, "-g", `pid ${join(dir, "nginx.pid")};`]).then(
      ({ stderr }) => ({ ok: true, out: stderr }),
      (error: { stderr: string }) => ({ ok: false, out: error.stderr }),
    );
  };
  const localised = async () => {
    mkdirSync(join(dir, "certs"), { recursive: true });
    mkdirSync(join(dir, "logs"), { recursive: true });
    await run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout", join(dir, "certs", "server-key.pem"), "-out", join(dir, "certs", "server.pem")]);
    return readFileSync(CONF, "utf8")
      .replaceAll("/etc/nginx/certs/", `${join(dir, "certs")}/`)
      .replaceAll("/var/log/nginx/", `${join(dir, "logs")}/`)
      .replaceAll("http://backend:8080", "http://127.0.0.1:8080");
  };

  it("passes nginx -t", async () => {
    const result = await check(await localised());
    expect(result.out).toContain("syntax is ok");
    expect(result).toMatchObject({ ok: true, out: expect.stringContaining("test is successful") });
  });

  it("hides its version, sends browsers to HTTPS and keeps them there", () => {
    const conf = readFileSync(CONF, "utf8");
    expect(conf).toMatch(/^\s*server_tokens off;$/m);
    expect(conf).toMatch(/listen 80;(?:(?!listen 443)[\s\S])*location \/ \{\s*return 301 https:\/\/\$host\$request_uri;/);
    expect(conf).toMatch(/add_header Strict-Transport-Security "max-age=31536000" always;/);
  });

  it("lets through a little more than each route of the API takes, so that the API's own error answers a file just too large", () => {
    const conf = readFileSync(CONF, "utf8");
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
