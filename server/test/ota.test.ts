import { createHash, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureCertificates, loadConfig, MqttCommandPublisher, type CertificateFiles } from "@mcs/platform";
import { MqttIngest, startWorker, type Worker } from "@mcs/worker";
import { Detector, type DetectorOptions } from "@mcs/simulator";
import type { Rollout } from "@mcs/protocol";
import { startMosquitto, type MosquittoInstance } from "../../test-support/mosquitto.ts";
import { buildTestApp, expectError, type TestApp } from "../../backend/test/helper.ts";
import { startServer, type Server } from "../src/server.ts";

// Issue 3, part 5: firmware over the air, end to end. An image is uploaded through the API
// (multipart), stored with its SHA-256 and served over HTTPS at a short-lived address
// signed for one device; emulated detectors (the firmware state machine of simulator/)
// download it, check it, "reboot" into it and report the new version in their status.
// Services mode: real PostgreSQL, Redis, Mosquitto (project config), the worker and the
// backend as separate parts; the embedded server (Aedes, PGlite, its own HTTPS listener)
// at the end.
const SERVICE_USERS = { "mcs-worker": "worker-secret-ota-1", "mcs-backend": "backend-secret-ota-1" };
const EVENTUALLY = { timeout: 20_000, interval: 50 };
const HOUR = 3_600_000;

/** A firmware image: deterministic bytes, as a build would make. */
function image(bytes: number, seed: number): Buffer {
  const out = Buffer.alloc(bytes);
  let x = seed;
  for (let i = 0; i < bytes; i++) {
    x = (x * 1_103_515_245 + 12_345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}
const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

function uploadForm(fields: Record<string, string>, file?: { name?: string; data: Buffer }): FormData {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  if (file) form.append(file.name ?? "file", new Blob([new Uint8Array(file.data)]), "firmware.bin");
  return form;
}

describe("OTA end to end (services mode)", () => {
  let broker: MosquittoInstance;
  let t: TestApp;
  let worker: Worker;
  let https: HttpsServer;
  let certs: CertificateFiles;
  let certDir: string;
  let httpBase: string;
  let admin: { authorization: string };
  const users: Record<string, string> = { ...SERVICE_USERS };
  const publishers: MqttCommandPublisher[] = [];
  const detectors: Detector[] = [];
  const V110 = image(300 * 1024, 1);
  const V120 = image(180 * 1024, 2);

  const api = async (method: "GET" | "POST" | "DELETE", url: string, payload?: object, headers: Record<string, string> = admin) => {
    const res = await t.app.inject({ method, url, headers, ...(payload && { payload }) });
    return { status: res.statusCode, body: res.body ? res.json<Record<string, unknown>>() : {} };
  };
  /** Multipart over real HTTP, as a browser sends it. */
  const upload = async (form: FormData, headers: Record<string, string> = admin) => {
    const res = await fetch(`${httpBase}/api/firmware`, { method: "POST", body: form, headers });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  /** Registers a device through the API and starts its emulator (fw 1.0.0). */
  const detector = async (sn: string, options: Partial<DetectorOptions> = {}) => {
    const created = await api("POST", "/api/devices", { sn, gas: "CO", unit: "ppm" });
    expect(created.status).toBe(201);
    users[sn] = created.body.mqtt_password as string;
    await broker.setUsers(users);
    const d = new Detector({ sn, password: users[sn], url: broker.url("tls"), ca: broker.ca, otaCa: certs.ca, gas: "CO", fw: "1.0.0", intervalMs: 60_000, ...options });
    detectors.push(d);
    await d.start();
    await expect.poll(async () => (await api("GET", `/api/devices/${sn}`)).body, EVENTUALLY).toMatchObject({ status: "online", fw: "1.0.0" });
    return d;
  };
  const command = async (sn: string, id: string) => (await api("GET", `/api/devices/${sn}/commands/${id}`)).body;
  const send = async (sn: string, payload: object) => {
    const res = await api("POST", `/api/devices/${sn}/commands`, payload);
    expect(res).toMatchObject({ status: 202, body: { status: "pending" } });
    return res.body.id as string;
  };

  beforeAll(async () => {
    broker = await startMosquitto({ users: SERVICE_USERS });
    certDir = await mkdtemp(join(tmpdir(), "mcs-ota-e2e-"));
    certs = await ensureCertificates(certDir, ["localhost"]);
    // The backend's HTTPS face (nginx in production): bound first, so its port is the public URL's.
    https = createServer({ key: certs.key, cert: certs.cert });
    await new Promise<void>((resolve) => https.listen(0, "127.0.0.1", resolve));
    const backendPublisher = new MqttCommandPublisher({ url: broker.url("plain", "mcs-backend", SERVICE_USERS["mcs-backend"]), clientId: `ota-backend-${randomUUID()}` });
    const workerPublisher = new MqttCommandPublisher({ url: broker.url("plain", "mcs-worker", SERVICE_USERS["mcs-worker"]), clientId: `ota-worker-cmd-${randomUUID()}` });
    publishers.push(backendPublisher, workerPublisher);
    await Promise.all(publishers.map((p) => p.waitConnected()));
    t = await buildTestApp("services", { commands: backendPublisher, publicUrl: `https://localhost:${(https.address() as AddressInfo).port}`, rolloutTickMs: 100 });
    await t.app.listen({ port: 0, host: "127.0.0.1" });
    https.on("request", (req, res) => t.app.routing(req, res));
    httpBase = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    const source = new MqttIngest({ url: broker.url("plain", "mcs-worker", SERVICE_USERS["mcs-worker"]), clientId: `ota-worker-${randomUUID()}` });
    worker = await startWorker({ ...t.ports, clock: t.clock, source, commands: workerPublisher, sweepEveryMs: HOUR });
    admin = await t.as("admin");
  });
  afterAll(async () => {
    await Promise.all(detectors.map((d) => d.stop()));
    https?.closeAllConnections();
    await new Promise((resolve) => https?.close(resolve));
    await t?.app.close();
    await worker?.stop();
    await Promise.all(publishers.map((p) => p.close()));
    await t?.ports.close();
    await broker?.stop();
    if (certDir) await rm(certDir, { recursive: true, force: true });
  });

  describe("uploading an image", () => {
    it("stores it with the SHA-256 the server computed, and lists it", async () => {
      const res = await upload(uploadForm({ version: "1.1.0", notes: "修复 H2S 零点漂移" }, { data: V110 }));
      expect(res).toEqual({
        status: 201,
        body: { version: "1.1.0", notes: "修复 H2S 零点漂移", size: V110.length, sha256: sha256(V110), created_by: "admin", created_at: expect.any(String) },
      });
      t.clock.advance(1000);
      expect((await upload(uploadForm({ version: "1.2.0" }, { data: V120 }))).status).toBe(201);
      expect((await api("GET", "/api/firmware")).body.data).toEqual([
        expect.objectContaining({ version: "1.2.0", sha256: sha256(V120), notes: "" }),
        expect.objectContaining({ version: "1.1.0", sha256: sha256(V110) }),
      ]);
      const audit = await api("GET", "/api/audit?limit=50");
      expect(JSON.stringify(audit.body)).toContain("1.1.0");
    });

    it("never overwrites a version: the same version again is 409 and the stored image is unchanged", async () => {
      const res = await upload(uploadForm({ version: "1.1.0" }, { data: V120 }));
      expect(res.status).toBe(409);
      expect(res.body).toEqual({ error: { code: "MCS_ERR_CONFLICT", message: expect.stringMatching(/1\.1\.0 already exists/) } });
      expect((await api("GET", "/api/firmware/1.1.0")).body).toMatchObject({ sha256: sha256(V110), size: V110.length });
    });

    it("refuses bad uploads with a message naming what is wrong, and stores nothing", async () => {
      expect(await upload(uploadForm({ version: "1.3.0" }))).toMatchObject({ status: 400, body: { error: { message: "file: the firmware image is missing or empty" } } });
      expect(await upload(uploadForm({ version: "1.3.0" }, { data: Buffer.alloc(0) }))).toMatchObject({ status: 400, body: { error: { message: "file: the firmware image is missing or empty" } } });
      expect(await upload(uploadForm({ version: "1.3 beta" }, { data: V120 }))).toMatchObject({ status: 400, body: { error: { message: expect.stringMatching(/^body\.version: version is 1–32/) } } });
      expect(await upload(uploadForm({ notes: "no version" }, { data: V120 }))).toMatchObject({ status: 400, body: { error: { message: expect.stringMatching(/^body\.version/) } } });
      expect(await upload(uploadForm({ version: "1.3.0" }, { name: "image", data: V120 }))).toMatchObject({ status: 400, body: { error: { message: expect.stringMatching(/^file: the image goes in the part named "file"/) } } });
      expect(await upload(uploadForm({ version: "1.3.0" }, { data: Buffer.alloc(16 * 1024 * 1024 + 1) }))).toMatchObject({ status: 413, body: { error: { code: "MCS_ERR_TOO_LARGE", message: "file: the image is larger than 16 MiB" } } });
      const json = await api("POST", "/api/firmware", { version: "1.3.0" });
      expect(json).toMatchObject({ status: 415, body: { error: { code: "MCS_ERR_UNSUPPORTED_MEDIA_TYPE" } } });
      expect((await api("GET", "/api/firmware")).body.data).toHaveLength(2);
    });

    it("lets only admins and engineers upload, and only a session read", async () => {
      expect((await upload(uploadForm({ version: "1.4.0" }, { data: V120 }), await t.as("operator"))).status).toBe(403);
      expect((await upload(uploadForm({ version: "1.4.0" }, { data: V120 }), {})).status).toBe(401);
      expect((await api("GET", "/api/firmware", undefined, {})).status).toBe(401);
      expect((await api("GET", "/api/firmware", undefined, await t.as("viewer"))).status).toBe(200);
    });
  });

  describe("downloading", () => {
    const signed = async (sn: string) => {
      await api("POST", "/api/devices", { sn, gas: "CO", unit: "ppm" });
      const id = await send(sn, { cmd: "ota", params: { version: "1.1.0" }, expires_in_s: 60 });
      return new URL((await command(sn, id)).params!["url" as never] as string);
    };

    it("serves the exact image to the device the signed address names, over HTTPS", async () => {
      const url = await signed("DL-1");
      expect(url.protocol).toBe("https:");
      const res = await t.app.inject({ method: "GET", url: url.pathname + url.search });
      expect(res.statusCode).toBe(200);
      expect(sha256(res.rawPayload)).toBe(sha256(V110));
    });

    it("refuses a tampered signature, another device's name, and an expired address (403)", async () => {
      const url = await signed("DL-2");
      const tampered = new URL(url);
      tampered.searchParams.set("sig", `${url.searchParams.get("sig")!.slice(0, -2)}AA`);
      const otherDevice = new URL(url);
      otherDevice.searchParams.set("sn", "DL-1");
      for (const bad of [tampered, otherDevice]) {
        const res = await t.app.inject({ method: "GET", url: bad.pathname + bad.search });
        expectError(res, 403, "MCS_ERR_FORBIDDEN", "the download address is not valid");
      }
      // Valid while the command waits (60 s) and for the 30 min an update may take, not after.
      t.clock.advance(60_000 + 30 * 60_000 + 1_000);
      expectError(await t.app.inject({ method: "GET", url: url.pathname + url.search }), 403, "MCS_ERR_FORBIDDEN", /expired/);
    });

    it("keeps the signature out of the audit log", async () => {
      const audit = JSON.stringify((await api("GET", "/api/audit?limit=50")).body);
      expect(audit).toContain("/api/firmware/1.1.0/image");
      expect(audit).not.toMatch(/sig=[A-Za-z0-9_-]{20,}/);
    });
  });

  describe("an ota command", () => {
    it("updates a device: it downloads, verifies, acks, reboots and reports the new version", async () => {
      const d = await detector("OTA-1");
      const id = await send("OTA-1", { cmd: "ota", params: { version: "1.1.0" } });
      await expect.poll(() => command("OTA-1", id), EVENTUALLY).toMatchObject({ status: "acked" });
      await expect.poll(async () => (await api("GET", "/api/devices/OTA-1")).body, EVENTUALLY).toMatchObject({ fw: "1.1.0", boot: 2, status: "online" });
      expect(d.fw).toBe("1.1.0");
    });

    it("fails with the device's reason on a bad checksum, and the device keeps its version", async () => {
      const d = await detector("OTA-2");
      // The right image at an address signed for this device, announced with another image's checksum.
      const url = await t.app.firmwareUrls.url("1.1.0", "OTA-2", t.clock.now() + HOUR);
      const id = await send("OTA-2", { cmd: "ota", params: { url, version: "1.1.0", size: V110.length, sha256: sha256(V120) } });
      await expect.poll(() => command("OTA-2", id), EVENTUALLY).toMatchObject({ status: "failed", msg: expect.stringMatching(/sha256 mismatch/) });
      expect(d.fw).toBe("1.0.0");
      expect((await api("GET", "/api/devices/OTA-2")).body).toMatchObject({ fw: "1.0.0", boot: 1, status: "online" });
    });

    it("refuses bad ota params with a 400 naming them, and an unknown version", async () => {
      for (const params of [{}, { version: "1.1.0", url: "http://insecure/x.bin", size: 1, sha256: "0".repeat(64) }, { version: "1.1.0", extra: 1 }]) {
        const res = await api("POST", "/api/devices/OTA-1/commands", { cmd: "ota", params });
        expect(res).toMatchObject({ status: 400, body: { error: { message: expect.stringMatching(/^params: an ota takes/) } } });
      }
      expect(await api("POST", "/api/devices/OTA-1/commands", { cmd: "ota", params: { version: "9.9.9" } })).toMatchObject({
        status: 400, body: { error: { message: "params.version: no firmware 9.9.9 has been uploaded" } },
      });
    });
  });

  describe("a rollout", () => {
    const rollout = async (id: string) => (await api("GET", `/api/rollouts/${id}`)).body as unknown as Rollout;

    it("updates a selection at most max_concurrent at a time, shows its progress, and ends done", async () => {
      const sns = ["RO-1", "RO-2", "RO-3", "RO-4", "RO-5"];
      for (const sn of sns) await detector(sn);
      const created = await api("POST", "/api/firmware/1.2.0/rollouts", { sns, max_concurrent: 2 });
      expect(created).toMatchObject({ status: 201, body: { version: "1.2.0", state: "running", max_concurrent: 2 } });
      const id = created.body.id as string;
      let most = 0;
      const seen: Rollout["progress"][] = [];
      await expect
        .poll(async () => {
          const now = await rollout(id);
          most = Math.max(most, now.progress.updating);
          seen.push(now.progress);
          return now.state;
        }, { timeout: 60_000, interval: 20 })
        .toBe("done");
      expect(most).toBeLessThanOrEqual(2);
      expect(most).toBeGreaterThan(0);
      const done = await rollout(id);
      expect(done.progress).toEqual({ queued: 0, updating: 0, succeeded: 5, failed: 0, skipped: 0 });
      expect(done.devices.map((device) => device.sn)).toEqual(sns);
      for (const sn of sns) expect((await api("GET", `/api/devices/${sn}`)).body).toMatchObject({ fw: "1.2.0" });
      expect((await api("GET", "/api/rollouts")).body.data).toContainEqual(expect.objectContaining({ id, state: "done", progress: done.progress }));
      // Progress moved through the queue: at some point devices were still waiting.
      expect(seen.some((progress) => progress.queued > 0)).toBe(true);
    });

    it("skips devices already on the version, and halts after max_failures failures", async () => {
      // These two do not trust the server's certificate: their downloads fail.
      await detector("RF-1", { otaCa: broker.ca });
      await detector("RF-2", { otaCa: broker.ca });
      await detector("RF-3");
      const created = await api("POST", "/api/firmware/1.2.0/rollouts", { sns: ["RO-1", "RF-1", "RF-2", "RF-3"], max_concurrent: 1, max_failures: 1 });
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      await expect.poll(async () => (await rollout(id)).state, { timeout: 30_000, interval: 50 }).toBe("halted");
      const halted = await rollout(id);
      expect(halted.devices).toEqual([
        expect.objectContaining({ sn: "RO-1", status: "skipped", msg: "already runs 1.2.0" }),
        expect.objectContaining({ sn: "RF-1", status: "failed", msg: expect.stringMatching(/download failed/) }),
        expect.objectContaining({ sn: "RF-2", status: "skipped", msg: "rollout halted" }),
        expect.objectContaining({ sn: "RF-3", status: "skipped", msg: "rollout halted" }),
      ]);
      expect((await api("GET", "/api/devices/RF-1")).body).toMatchObject({ fw: "1.0.0" });
      expect((await api("GET", "/api/devices/RF-3")).body).toMatchObject({ fw: "1.0.0" });
    });

    it("refuses unknown devices, a device already in a running rollout, and bad limits", async () => {
      expect(await api("POST", "/api/firmware/1.2.0/rollouts", { sns: ["RF-3", "NOPE-1"] })).toMatchObject({ status: 400, body: { error: { message: "sns: no such devices: NOPE-1" } } });
      expect(await api("POST", "/api/firmware/1.2.0/rollouts", { sns: ["RF-3"], max_concurrent: 0 })).toMatchObject({ status: 400, body: { error: { message: expect.stringMatching(/^body\.max_concurrent/) } } });
      expect(await api("POST", "/api/firmware/1.2.0/rollouts", { sns: ["RF-3", "RF-3"] })).toMatchObject({ status: 400, body: { error: { message: expect.stringMatching(/each device once/) } } });
      expect((await api("POST", "/api/firmware/0.0.1/rollouts", { sns: ["RF-3"] })).status).toBe(404);
      expect((await api("POST", "/api/firmware/1.2.0/rollouts", { sns: ["RF-3"] }, await t.as("operator"))).status).toBe(403);

      // An offline device holds its rollout open; a second rollout may not take it, and cancel lets it go.
      await api("POST", "/api/devices", { sn: "OFF-1", gas: "CO", unit: "ppm" });
      const first = await api("POST", "/api/firmware/1.2.0/rollouts", { sns: ["OFF-1"] });
      expect(first.body).toMatchObject({ state: "running", progress: { updating: 1 } });
      expect(await api("POST", "/api/firmware/1.1.0/rollouts", { sns: ["OFF-1"] })).toMatchObject({ status: 409, body: { error: { message: "sns: already in another rollout: OFF-1" } } });
      expect(await api("POST", `/api/rollouts/${first.body.id as string}/cancel`)).toMatchObject({ status: 200, body: { state: "cancelled" } });
      expect((await api("POST", `/api/rollouts/${first.body.id as string}/cancel`)).status).toBe(409);
    });

    it("keeps an image a rollout used (409) and deletes one no rollout used", async () => {
      expect(await api("DELETE", "/api/firmware/1.2.0")).toMatchObject({ status: 409 });
      expect((await upload(uploadForm({ version: "0.9.0" }, { data: V120 }))).status).toBe(201);
      expect((await api("DELETE", "/api/firmware/0.9.0")).status).toBe(204);
      expect((await api("GET", "/api/firmware/0.9.0")).status).toBe(404);
    });
  });
});

describe("OTA on the embedded server (npm start)", () => {
  let server: Server;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mcs-ota-embedded-"));
    server = await startServer(loadConfig({ MCS_DATA_DIR: dir, HTTP_PORT: "0", HTTP_HOST: "127.0.0.1", MQTT_TLS_PORT: "0", HTTPS_PORT: "0", MCS_ADMIN_PASSWORD: "ota-admin-pw", MCS_DEMO_DEVICES: "0" }));
  });
  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("serves the API and the firmware over HTTPS with its own certificate, and updates a device", async () => {
    const base = `http://127.0.0.1:${server.httpPort}`;
    const login = await fetch(`${base}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password: "ota-admin-pw" }) });
    const auth = { authorization: `Bearer ${((await login.json()) as { token: string }).token}` };
    const json = { ...auth, "content-type": "application/json" };
    const fw = image(64 * 1024, 3);
    expect((await fetch(`${base}/api/firmware`, { method: "POST", headers: auth, body: uploadForm({ version: "2.0.0" }, { data: fw }) })).status).toBe(201);
    const created = (await (await fetch(`${base}/api/devices`, { method: "POST", headers: json, body: JSON.stringify({ sn: "EMB-OTA", gas: "H2S", unit: "ppm" }) })).json()) as { mqtt_password: string };
    const ca = server.ca!;
    const d = new Detector({ sn: "EMB-OTA", password: created.mqtt_password, url: `mqtts://localhost:${server.mqttPort}`, ca, gas: "H2S", fw: "1.0.0", intervalMs: 60_000 });
    await d.start();
    try {
      const device = async () => (await (await fetch(`${base}/api/devices/EMB-OTA`, { headers: auth })).json()) as Record<string, unknown>;
      await expect.poll(device, EVENTUALLY).toMatchObject({ status: "online", fw: "1.0.0" });
      const sent = (await (await fetch(`${base}/api/devices/EMB-OTA/commands`, { method: "POST", headers: json, body: JSON.stringify({ cmd: "ota", params: { version: "2.0.0" } }) })).json()) as { id: string };
      await expect.poll(async () => (await (await fetch(`${base}/api/devices/EMB-OTA/commands/${sent.id}`, { headers: auth })).json()) as Record<string, unknown>, EVENTUALLY).toMatchObject({
        status: "acked", params: { url: expect.stringMatching(new RegExp(`^https://localhost:${server.httpsPort}/api/firmware/2\\.0\\.0/image\\?`)) },
      });
      await expect.poll(device, EVENTUALLY).toMatchObject({ fw: "2.0.0", status: "online" });
    } finally {
      await d.stop();
    }
  });
});
