import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createTestDatabase } from "../../test-support/databases.ts";
import { freePort } from "../../test-support/free-port.ts";
import { startMosquitto, type MosquittoInstance } from "../../test-support/mosquitto.ts";
import { startProductProcess, type ProductProcess } from "../../test-support/processes.ts";

// `npm run backend` as production runs it (services mode): it logs in to Mosquitto with
// MQTT_URL as its own account, mcs-backend, to publish commands; that connection is what
// /api/health reports for the broker. A MQTT_URL without an account stops the start.
describe("the backend process in services mode", () => {
  const password = "backend-secret-process-test";
  let broker: MosquittoInstance;
  let backend: ProductProcess | undefined;
  let dir: string;
  let base: string;

  const start = async (mqttUrl: string) => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    return startProductProcess("backend/src/main.ts", {
      DATABASE_URL: await createTestDatabase("backend"),
      REDIS_URL: inject("redisUrl"),
      MQTT_URL: mqttUrl,
      MQTT_CA: broker.caPath,
      HTTP_PORT: String(port),
      HTTP_HOST: "127.0.0.1",
      MCS_DATA_DIR: dir,
      MCS_ADMIN_PASSWORD: "admin-password-for-test",
    });
  };
  const brokerHealth = async () => {
    try {
      return ((await (await fetch(`${base}/api/health`)).json()) as { broker: string }).broker;
    } catch {
      return "not answering";
    }
  };

  /** A process of its own starts in seconds, but in tens of them on a 2-core machine running other suites. */
  const START_MS = 45_000;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "mcs-backend-process-"));
    broker = await startMosquitto({ users: { "mcs-backend": password } });
  });
  afterAll(async () => {
    await backend?.stop();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("connects to the broker as mcs-backend: the broker is ok, and down with a wrong password", async () => {
    backend = await start(broker.url("tls", "mcs-backend", password));
    await expect.poll(brokerHealth, { timeout: START_MS, interval: 100 }).toBe("ok");
    await backend.stop();
    backend = await start(broker.url("tls", "mcs-backend", "wrong-password"));
    await expect.poll(brokerHealth, { timeout: START_MS, interval: 100 }).toBe("down");
    await backend.stop();
  }, 3 * START_MS);

  it("refuses to start with an MQTT_URL that names no account, naming the variable", async () => {
    backend = await start(`mqtts://127.0.0.1:${broker.tlsPort}`);
    const exited = backend;
    await expect.poll(() => exited.child.exitCode, { timeout: START_MS, interval: 100 }).not.toBeNull();
    expect(exited.child.exitCode).not.toBe(0);
    expect(backend.output()).toMatch(/MQTT_URL: must name this process's broker account/);
  }, 2 * START_MS);
});
