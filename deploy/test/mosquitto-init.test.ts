import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { formatPasswordFile, hashMosquittoPassword, verifyMosquittoPassword } from "../../packages/platform/src/broker/mosquitto-passwd.ts";

// Issue 14: compose's mosquitto-init, run with Debian's mosquitto_passwd (the image's is the same program).
const SCRIPT = fileURLToPath(new URL("../mosquitto/init-passwd.sh", import.meta.url));
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function folder() {
  const dir = mkdtempSync(join(tmpdir(), "mcs-mosquitto-init-"));
  dirs.push(dir);
  return dir;
}
const run = (file: string, env: Record<string, string>) =>
  promisify(execFile)("sh", [SCRIPT, file], { env: { PATH: process.env.PATH!, MOSQUITTO_OWNER: `${process.getuid!()}:${process.getgid!()}`, MOSQUITTO_DATA_DIR: join(file, "..", "data"), ...env } });
const entries = (file: string) =>
  new Map(readFileSync(file, "utf8").trim().split("\n").map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1)] as const));

describe("deploy/mosquitto/init-passwd.sh", () => {
  it("makes the password file with the two service accounts, readable by its owner only", async () => {
    const file = join(folder(), "auth", "passwd");
    const { stdout } = await run(file, { MQTT_WORKER_PASSWORD: "worker-secret", MQTT_BACKEND_PASSWORD: "backend-secret" });
    expect(stdout).toContain("mcs-worker and mcs-backend set");
    const users = entries(file);
    expect([...users.keys()].sort()).toEqual(["mcs-backend", "mcs-worker"]);
    expect(verifyMosquittoPassword("worker-secret", users.get("mcs-worker")!)).toBe(true);
    expect(verifyMosquittoPassword("backend-secret", users.get("mcs-backend")!)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("on a rerun with new passwords, updates the services and keeps every device the backend wrote", async () => {
    const file = join(folder(), "passwd");
    const device = hashMosquittoPassword("device-secret");
    writeFileSync(file, formatPasswordFile([{ username: "mcs-worker", hash: hashMosquittoPassword("old") }, { username: "GD-0001", hash: device }]));
    await run(file, { MQTT_WORKER_PASSWORD: "new-worker", MQTT_BACKEND_PASSWORD: "new-backend" });
    const users = entries(file);
    expect(users.get("GD-0001")).toBe(device);
    expect(verifyMosquittoPassword("new-worker", users.get("mcs-worker")!)).toBe(true);
    expect(verifyMosquittoPassword("old", users.get("mcs-worker")!)).toBe(false);
    expect(verifyMosquittoPassword("new-backend", users.get("mcs-backend")!)).toBe(true);
  });

  it("refuses to run without the passwords, and leaves the file as it was", async () => {
    const file = join(folder(), "passwd");
    const before = formatPasswordFile([{ username: "GD-0001", hash: hashMosquittoPassword("device-secret") }]);
    writeFileSync(file, before);
    const failure = await run(file, { MQTT_WORKER_PASSWORD: "only-one" }).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: expect.any(Number), stderr: expect.stringContaining("set MQTT_BACKEND_PASSWORD") });
    expect(readFileSync(file, "utf8")).toBe(before);
  });
});
