import { readFileSync } from "node:fs";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMosquitto, type MosquittoInstance } from "../../test-support/mosquitto.ts";
import { buildTestApp, type TestApp } from "./helper.ts";

// Issue 5, item 4: device logins on the real Mosquitto (the project's config, password file
// and ACL) follow the database. The backend rewrites the password file and reloads the
// broker after each device change; the platform's own accounts stay as the operator set them.
const SERVICE = { "mcs-worker": "worker-secret-creds-1", "mcs-backend": "backend-secret-creds-1" };
const EVENTUALLY = { timeout: 10_000, interval: 50 };

describe("device credentials on the real Mosquitto", () => {
  let broker: MosquittoInstance;
  let t: TestApp;
  let admin: { authorization: string };

  const api = async (method: "POST" | "PATCH" | "DELETE", url: string, payload?: object) => {
    const res = await t.app.inject({ method, url, headers: admin, ...(payload && { payload }) });
    return { status: res.statusCode, body: res.body ? res.json<Record<string, unknown>>() : {} };
  };
  /** Connects over TLS as the device: "ok", or the broker's refusal. */
  const login = async (sn: string, password: string): Promise<string> => {
    try {
      const client = await mqtt.connectAsync(broker.url("tls"), { ca: broker.ca, username: sn, password, clientId: `${sn}-login-${Math.random()}`, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000 });
      await client.endAsync(true);
      return "ok";
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  };

  beforeAll(async () => {
    broker = await startMosquitto({ users: SERVICE });
    t = await buildTestApp("services", { mosquitto: { passwordFile: broker.passwordFile, pid: broker.pid } });
    await t.app.ready();
    admin = await t.as("admin");
  });
  afterAll(async () => {
    await t?.close();
    await broker?.stop();
  });

  it("lets a registered device log in with its password, and only with it", async () => {
    const created = await api("POST", "/api/devices", { sn: "CRED-1", gas: "CO", unit: "ppm" });
    const password = created.body.mqtt_password as string;
    await expect.poll(() => login("CRED-1", password), EVENTUALLY).toBe("ok");
    expect(await login("CRED-1", "not-the-password")).toMatch(/Not authorized|Bad user name or password/i);
  });

  it("refuses the old password after a rotation and takes the new one", async () => {
    const created = await api("POST", "/api/devices", { sn: "CRED-2", gas: "CO", unit: "ppm" });
    const old = created.body.mqtt_password as string;
    await expect.poll(() => login("CRED-2", old), EVENTUALLY).toBe("ok");
    const rotated = (await api("POST", "/api/devices/CRED-2/credentials")).body.mqtt_password as string;
    await expect.poll(() => login("CRED-2", rotated), EVENTUALLY).toBe("ok");
    expect(await login("CRED-2", old)).not.toBe("ok");
  });

  it("refuses a disabled device, takes it back when enabled, and refuses a deleted one", async () => {
    const created = await api("POST", "/api/devices", { sn: "CRED-3", gas: "CO", unit: "ppm" });
    const password = created.body.mqtt_password as string;
    await expect.poll(() => login("CRED-3", password), EVENTUALLY).toBe("ok");
    expect((await api("PATCH", "/api/devices/CRED-3", { enabled: false })).status).toBe(200);
    await expect.poll(() => login("CRED-3", password), EVENTUALLY).not.toBe("ok");
    expect((await api("PATCH", "/api/devices/CRED-3", { enabled: true })).status).toBe(200);
    await expect.poll(() => login("CRED-3", password), EVENTUALLY).toBe("ok");
    expect((await api("DELETE", "/api/devices/CRED-3")).status).toBe(204);
    await expect.poll(() => login("CRED-3", password), EVENTUALLY).not.toBe("ok");
  });

  it("keeps the platform's own accounts, and never writes a device's plain password", async () => {
    expect(await login("mcs-worker", SERVICE["mcs-worker"])).toBe("ok");
    expect(await login("mcs-backend", SERVICE["mcs-backend"])).toBe("ok");
    const file = readFileSync(broker.passwordFile, "utf8");
    expect(file).toMatch(/^mcs-worker:\$7\$/m);
    expect(file).toMatch(/^CRED-1:\$7\$/m);
    expect(file).not.toMatch(/^CRED-3:/m);
  });
});
