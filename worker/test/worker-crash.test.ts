import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createPgDb, DeviceStore, migrate, type Db } from "@mcs/platform";
import { createTestDatabase } from "../../test-support/databases.ts";
import { startMosquitto, type MosquittoInstance } from "../../test-support/mosquitto.ts";
import { startProductProcess, type ProductProcess } from "../../test-support/processes.ts";

// Design "Reliability model": a kill -9 of the worker in the middle of a stream loses
// nothing and stores nothing twice (real Mosquitto with the project config, real PostgreSQL).
describe("kill -9 of the worker in the middle of a stream", () => {
  const DEVICES = ["K001", "K002", "K003", "K004"];
  const PER_DEVICE = 1500;
  const workerPassword = "worker-secret-for-tests";
  let broker: MosquittoInstance;
  let db: Db;
  let databaseUrl: string;
  let worker: ProductProcess | undefined;

  const startWorker = () =>
    startProductProcess("worker/src/main.ts", {
      DATABASE_URL: databaseUrl,
      REDIS_URL: inject("redisUrl"),
      MQTT_URL: broker.url("tls", "mcs-worker", workerPassword),
      MQTT_CA: broker.caPath,
      MQTT_CLIENT_ID: "mcs-worker-crash-test",
    });
  const stored = async () => Number((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM telemetry`))[0]?.n);

  beforeAll(async () => {
    databaseUrl = await createTestDatabase("crash");
    db = createPgDb(databaseUrl, { max: 2 });
    await migrate(db);
    const devices = new DeviceStore(db);
    for (const sn of DEVICES) await devices.create({ sn }, "unused-here", { name: "test" });
    broker = await startMosquitto({ users: { "mcs-worker": workerPassword, ...Object.fromEntries(DEVICES.map((sn) => [sn, `pw-${sn}`])) } });
  });
  afterAll(async () => {
    await worker?.stop();
    await broker?.stop();
    await db?.close();
  });

  it("stores every reading the devices published exactly once after a restart", async () => {
    // Its first start creates the worker's persistent session; from then on the broker keeps its share.
    worker = startWorker();
    await expect.poll(() => worker!.output(), { timeout: 15_000 }).toContain("subscribed");
    const now = Math.floor(Date.now() / 1000) - PER_DEVICE;
    const publishers = DEVICES.map(async (sn) => {
      const client = await mqtt.connectAsync(broker.url("tls", sn, `pw-${sn}`), { ca: broker.ca, clientId: `dev-${sn}`, protocolVersion: 4 });
      for (let seq = 1; seq <= PER_DEVICE; seq++) {
        // QoS 1: resolves on the broker's PUBACK; the broker then owns the message.
        await client.publishAsync(`mcs/${sn}/up`, JSON.stringify({ ts: now + seq, seq, v_raw: seq, temp: 25 }), { qos: 1 });
        if (seq % 20 === 0) await new Promise((r) => setTimeout(r, 20));
      }
      await client.endAsync();
    });

    // Let the worker store part of the stream, then kill it without warning.
    await expect.poll(stored, { timeout: 20_000, interval: 50 }).toBeGreaterThan(500).catch((error) => {
      throw new Error(`${error}\n--- worker output ---\n${worker?.output()}`);
    });
    await worker.kill9();
    const atKill = await stored();
    expect(atKill).toBeLessThan(DEVICES.length * PER_DEVICE);

    worker = startWorker();
    await Promise.all(publishers);
    await expect.poll(stored, { timeout: 30_000, interval: 200 }).toBe(DEVICES.length * PER_DEVICE);

    const perDevice = await db.query<{ sn: string; n: number; distinct_seq: number; min: number; max: number }>(
      `SELECT sn, count(*)::int AS n, count(DISTINCT seq)::int AS distinct_seq, min(seq) AS min, max(seq) AS max FROM telemetry GROUP BY sn ORDER BY sn`,
    );
    expect(perDevice).toEqual(DEVICES.map((sn) => ({ sn, n: PER_DEVICE, distinct_seq: PER_DEVICE, min: 1, max: PER_DEVICE })));
  });
});
