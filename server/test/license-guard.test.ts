import { generateKeyPairSync, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeLicenseFile, GRACE_MS, type License } from "@mcs/core";
import { ChannelStore, createLicenseGuard, readMachineFingerprint, type LicenseGuard } from "@mcs/platform";
import { cacheKeys, topics } from "@mcs/protocol";
import { MqttIngest, startWorker, type Worker } from "@mcs/worker";
import { buildLicenseServer, VendorLicenseStore as VendorStore } from "@mcs/license-server";
import { buildTestApp, expectError, PASSWORD, type TestApp } from "../../backend/test/helper.ts";
import { freePort } from "../../test-support/free-port.ts";
import { startMosquitto, type MosquittoInstance } from "../../test-support/mosquitto.ts";

// Issue 12, acceptance: the guard of the backend and the guard of the worker (one record in
// PostgreSQL, changes over Redis), the vendor's license server over HTTP, real MQTT traffic
// through Mosquitto with the project's config. One fake clock for all of them, the vendor's
// included, so that 72 hours pass in a moment.
const WORKER_PASSWORD = "worker-secret-license-1";
const HOUR = 3_600_000;
const EVENTUALLY = { timeout: 15_000, interval: 25 };
const SN = "LIC-CH4-1";

describe("the license guard on a running plant", () => {
  const vendorKeys = generateKeyPairSync("ed25519");
  const fingerprint = readMachineFingerprint()?.fingerprint ?? "";
  let dir: string;
  let broker: MosquittoInstance;
  let t: TestApp;
  let worker: Worker;
  let workerGuard: LicenseGuard;
  let vendorStore: VendorStore;
  let vendor: FastifyInstance | undefined;
  let vendorPort: number;
  let publicKeyFile: string;
  let server: string;
  /** An admin's session, logged in afresh: 72 hours pass, sessions expire (logging in works while locked). */
  const admin = async () => {
    const res = await t.app.inject({ method: "POST", url: "/api/auth/login", payload: { username: "admin", password: PASSWORD } });
    return { authorization: `Bearer ${res.json<{ token: string }>().token}` };
  };
  let device: MqttClient;
  let receiver: Server;
  const notified: { sn: string; type: string; level: number; kind: string }[] = [];
  let seq = 0;
  const published: number[] = [];
  const license: License = {
    id: "LIC-ACCEPT-1", customer: "江苏某化工有限公司", plant: "一号罐区", device_limit: 100, features: [], issued_at: "2026-12-01", expires_at: "2099-12-31", fingerprint, server: "",
  };
  let file: string;

  const vendorUp = async () => {
    vendor = await buildLicenseServer({ store: vendorStore, privateKey: vendorKeys.privateKey, adminToken: "vendor-admin-token-0123456789", now: () => t.clock.now() });
    await vendor.listen({ port: vendorPort, host: "127.0.0.1" });
  };
  const vendorDown = async () => {
    await vendor?.close();
    vendor = undefined;
  };
  const licenseView = async () => (await t.app.inject({ method: "GET", url: "/api/license", headers: await admin() })).json<{ state: string; reason: string; grace_until: string | null; locked: boolean }>();
  const checkNow = async () => (await t.app.inject({ method: "POST", url: "/api/license/check", headers: await admin() })).json<{ state: string; reason: string; grace_until: string | null }>();
  const stored = async () => Number((await t.ports.db.query<{ n: string }>(`SELECT count(*) AS n FROM telemetry WHERE sn = $1`, [SN]))[0]!.n);
  const distinctStored = async () => Number((await t.ports.db.query<{ n: string }>(`SELECT count(DISTINCT (ts, seq)) AS n FROM telemetry WHERE sn = $1`, [SN]))[0]!.n);
  const alarms = () => t.ports.db.query<{ id: number; type: string; level: number; late: boolean }>(`SELECT id, type, level, late FROM alarms WHERE sn = $1 AND type = 'HIGH' ORDER BY id`, [SN]);
  /** Readings 10 s apart on the fake clock; ppm = v_raw (k = 1, b = 0). */
  const report = async (values: number[]) => {
    for (const value of values) {
      t.clock.advance(10_000);
      seq++;
      published.push(seq);
      await device.publishAsync(topics.up(SN), JSON.stringify({ ts: Math.floor(t.clock.now() / 1000), seq, v_raw: value, temp: 25, err: 0 }), { qos: 1 });
    }
  };

  beforeAll(async () => {
    expect(fingerprint, "this machine needs /etc/machine-id").not.toBe("");
    dir = mkdtempSync(join(tmpdir(), "mcs-license-accept-"));
    publicKeyFile = join(dir, "vendor.pem");
    writeFileSync(publicKeyFile, vendorKeys.publicKey.export({ type: "spki", format: "pem" }));
    vendorPort = await freePort();
    server = `http://127.0.0.1:${vendorPort}/api/check`;
    license.server = server;
    file = encodeLicenseFile(license, vendorKeys.privateKey);

    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { alarms: typeof notified };
        notified.push(...body.alarms);
        res.writeHead(200).end("{}");
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));

    const users: Record<string, string> = { "mcs-worker": WORKER_PASSWORD };
    broker = await startMosquitto({ users });
    t = await buildTestApp("services", { license: { publicKeyFile, server } });
    vendorStore = await VendorStore.open(join(dir, "vendor-store"));
    await vendorStore.addLicense(license, file, t.clock.now());
    await vendorUp();

    workerGuard = createLicenseGuard({ db: t.ports.db, bus: t.ports.bus, clock: t.clock, publicKeyFile, server });
    await workerGuard.start();
    const source = new MqttIngest({ url: broker.url("plain", "mcs-worker", WORKER_PASSWORD), clientId: `license-worker-${randomUUID()}`, group: null });
    worker = await startWorker({ ...t.ports, clock: t.clock, source, license: workerGuard, sweepEveryMs: HOUR, notifyEveryMs: HOUR });

    const created = await t.app.inject({
      method: "POST", url: "/api/devices", headers: await admin(),
      payload: { sn: SN, gas: "CH4", unit: "%LEL", k: 1, b: 0, t_comp: 0, t_ref: 25, high_limit: 20, high_limit_2: 50, range_max: 100 },
    });
    expect(created.statusCode).toBe(201);
    users[SN] = created.json<{ mqtt_password: string }>().mqtt_password;
    await broker.setUsers(users);
    device = await mqtt.connectAsync(broker.url("tls"), { ca: broker.ca, username: SN, password: users[SN], clientId: SN, protocolVersion: 4, reconnectPeriod: 0 });
    await new ChannelStore(t.ports.db).create(
      {
        type: "webhook", name: "control room", enabled: true, config: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, secret: "hook-secret" }, locale: "zh-CN",
        sns: null, types: null, min_level: 1, schedule: null, level2_always: true, repeat_every_min: 0, escalate_after_min: 0, min_interval_s: 0,
      },
      { name: "test" }, (c) => c.name, t.clock.now(),
    );
    await worker.alarms.channelCache.reload();
  });

  afterAll(async () => {
    await device?.endAsync(true);
    await worker?.stop();
    await workerGuard?.stop();
    await t?.close();
    await broker?.stop();
    await vendorDown();
    await vendorStore?.close();
    await new Promise((resolve) => receiver?.close(resolve));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("goes from trial to valid when a license for this machine is installed and the vendor confirms it", async () => {
    expect(await licenseView()).toMatchObject({ state: "trial", locked: false });
    const res = await t.app.inject({ method: "POST", url: "/api/license", headers: { ...(await admin()), "content-type": "text/plain" }, payload: file });
    expect(res.json()).toMatchObject({ state: "valid", customer: "江苏某化工有限公司", reason: expect.stringContaining("confirmed by the license server") });
    await expect.poll(() => workerGuard.status.state, EVENTUALLY).toBe("valid");
    await report([5, 6]);
    await expect.poll(stored, EVENTUALLY).toBe(2);
  });

  it("keeps running for 72 h without the vendor (grace, which a restart does not reset), then locks", async () => {
    const lastOk = Date.parse((await t.app.inject({ method: "GET", url: "/api/license", headers: await admin() })).json<{ last_check_at: string }>().last_check_at);
    await vendorDown();
    t.clock.advance(HOUR);
    const grace = await checkNow();
    expect(grace).toMatchObject({ state: "grace", reason: expect.stringContaining("unreachable") });
    expect(Date.parse(grace.grace_until!)).toBe(lastOk + GRACE_MS);
    // A process started now (a restart) reads the same grace from the database.
    const restarted = createLicenseGuard({ db: t.ports.db, bus: t.ports.bus, clock: t.clock, publicKeyFile, server });
    const afterRestart = await restarted.refresh();
    expect(afterRestart).toMatchObject({ state: "grace", grace_until: Date.parse(grace.grace_until!) });
    t.clock.ms = lastOk + GRACE_MS - 60_000;
    expect((await restarted.refresh()).state).toBe("grace");
    t.clock.advance(60_000);
    expect((await restarted.refresh()).state).toBe("locked");
    expect(await licenseView()).toMatchObject({ state: "locked", locked: true, reason: expect.stringContaining("no successful check") });
    expectError(await t.app.inject({ method: "GET", url: "/api/devices", headers: await admin() }), 403, "MCS_ERR_LICENSE", /the license is locked/);
    expect((await t.app.inject({ method: "GET", url: "/api/health" })).json()).toMatchObject({ license: "locked" });
    await workerGuard.refresh(); // its hourly verification
    expect(worker.processor.holding).toBe(true);
  });

  it("while locked, stores nothing but still raises and notifies the gas alarm (docs/license.md)", async () => {
    const before = await stored();
    await report([7, 8, 60, 65, 62]);
    // The level 2 leak is judged from the held stream and notified.
    await expect.poll(async () => (await alarms()).map((a) => [a.type, a.level]), EVENTUALLY).toEqual([["HIGH", 2]]);
    await worker.notifications.run();
    expect(notified.filter((n) => n.sn === SN && n.type === "HIGH")).toEqual([expect.objectContaining({ level: 2, kind: "raised" })]);
    // Shown live all the same (the big screen's values come from here): never a stale value beside the alarm.
    await expect.poll(async () => JSON.parse((await t.ports.cache.hget(cacheKeys.latest, SN)) ?? "{}"), EVENTUALLY).toMatchObject({ ppm: 62, status: "alarm" });
    // Nothing stored: the readings wait in the broker.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await stored()).toBe(before);
  });

  it("refuses a clock set back: it buys no time", async () => {
    t.clock.advance(-2 * 24 * HOUR);
    const back = await licenseView();
    expect(back).toMatchObject({ state: "locked", reason: expect.stringContaining("the clock was set back") });
    t.clock.advance(2 * 24 * HOUR);
  });

  it("unlocks when the vendor is back: every held reading is stored exactly once, in order, the alarm not raised again", async () => {
    await vendorUp();
    expect(await checkNow()).toMatchObject({ state: "valid" });
    await expect.poll(() => worker.processor.holding, EVENTUALLY).toBe(false);
    await expect.poll(stored, EVENTUALLY).toBe(published.length);
    expect(await distinctStored()).toBe(published.length);
    await report([9]);
    await expect.poll(stored, EVENTUALLY).toBe(published.length);
    expect((await alarms()).map((a) => [a.type, a.level, a.late])).toEqual([["HIGH", 2, false]]);
    await worker.notifications.run();
    expect(notified.filter((n) => n.sn === SN && n.type === "HIGH" && n.kind === "raised")).toHaveLength(1);
    expect((await t.app.inject({ method: "GET", url: "/api/devices", headers: await admin() })).statusCode).toBe(200);
  });

  it("locks at the next check after the vendor revokes the license", async () => {
    const revoke = await vendor!.inject({ method: "POST", url: `/api/licenses/${license.id}/revoke`, headers: { authorization: "Bearer vendor-admin-token-0123456789" }, payload: { reason: "unpaid" } });
    expect(revoke.statusCode).toBe(200);
    expect(await checkNow()).toMatchObject({ state: "locked", reason: expect.stringContaining("revoked") });
    await expect.poll(() => worker.processor.holding, EVENTUALLY).toBe(true);
  });
});
