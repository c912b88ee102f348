import { createHash, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureCertificates, type CertificateFiles } from "../../packages/platform/src/broker/certs.ts";
import { startMosquitto, type MosquittoInstance } from "../../test-support/mosquitto.ts";
import { Detector, Random, type DetectorOptions, type FakeClock } from "../src/index.ts";
import { Operator, WORKER_PASSWORD, fakeClock } from "./support.ts";

// Issue 3: the emulator answers every command on mcs/{sn}/ack with {"id","ok","msg"}
// (real Mosquitto with the project config; the firmware images come from a local HTTPS server).
describe("the emulated detector answers commands", () => {
  const SNS = Array.from({ length: 12 }, (_, i) => `CMD-${i + 1}`);
  let broker: MosquittoInstance;
  let operator: Operator;
  let certs: CertificateFiles;
  let certDir: string;
  let images: Server;
  let imageBase: string;
  const detectors: Detector[] = [];
  let nextSn = 0;

  const IMAGE = Buffer.from(Array.from({ length: 200 * 1024 }, (() => { const r = new Random(42); return () => r.int(0, 255); })()));
  const IMAGE_SHA256 = createHash("sha256").update(IMAGE).digest("hex");

  /** A started detector of its own (each test gets a new sn), on a fake clock. */
  const startDetector = async (options: Partial<DetectorOptions> = {}): Promise<{ d: Detector; clock: FakeClock }> => {
    const sn = SNS[nextSn++]!;
    const clock = fakeClock();
    const d = new Detector({ sn, password: `pw-${sn}`, url: broker.url("tls"), ca: broker.ca, otaCa: certs.ca, clock, gas: "CO", fw: "1.0.0", ...options });
    detectors.push(d);
    await d.start();
    await expect.poll(() => operator.lastStatus(sn)).toEqual({ online: true, fw: "1.0.0", boot: 1 });
    return { d, clock };
  };
  /** Sends a command and waits for its acknowledgement. */
  const command = async (sn: string, cmd: string, params: Record<string, unknown> = {}) => {
    const id = randomUUID();
    await operator.command(sn, id, cmd, params);
    await expect.poll(() => operator.ackFor(id), { timeout: 15_000 }).toBeDefined();
    return operator.ackFor(id)!;
  };

  beforeAll(async () => {
    broker = await startMosquitto({ users: { "mcs-worker": WORKER_PASSWORD, ...Object.fromEntries(SNS.map((sn) => [sn, `pw-${sn}`])) } });
    operator = await Operator.connect(broker, "commands-operator");
    certDir = mkdtempSync(join(tmpdir(), "mcs-ota-certs-"));
    certs = await ensureCertificates(certDir, ["localhost"]);
    images = createServer({ cert: certs.cert, key: certs.key }, (req, res) => {
      if (req.url === "/fw/1.1.0.bin") {
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": IMAGE.length });
        res.end(IMAGE);
      } else if (req.url === "/fw/cut.bin") {
        // The connection breaks half way through the image.
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": IMAGE.length });
        res.write(IMAGE.subarray(0, IMAGE.length / 2), () => res.socket?.destroy());
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => images.listen(0, "127.0.0.1", resolve));
    const address = images.address();
    imageBase = `https://localhost:${typeof address === "object" && address ? address.port : 0}/fw`;
  });
  afterAll(async () => {
    await Promise.all(detectors.map((d) => d.stop()));
    await operator?.close();
    await broker?.stop();
    images?.closeAllConnections();
    await new Promise((resolve) => images?.close(resolve));
    if (certDir) rmSync(certDir, { recursive: true, force: true });
  });

  describe("set_debug", () => {
    it("reports every N seconds for M minutes, then at its normal interval again", async () => {
      const { d, clock } = await startDetector({ intervalMs: 10_000 });
      const ack = await command(d.sn, "set_debug", { interval_s: 1, duration_min: 2 });
      expect(ack).toMatchObject({ ok: true, msg: "reporting every 1 s for 2 min" });
      expect(d.intervalMs).toBe(1_000);

      const times: number[] = [];
      d.on("reading", (r) => times.push(r.ts));
      await clock.advance(180_000);
      const gaps = times.slice(1).map((ts, i) => ts - times[i]!);
      // 2 min at 1 s from the command on, then every 10 s from the last debug report.
      expect(gaps).toEqual([...Array(118).fill(1), ...Array(6).fill(10)]);
      expect(d.intervalMs).toBe(10_000);
    });

    it("refuses an interval it cannot keep, and keeps its interval", async () => {
      const { d } = await startDetector();
      const ack = await command(d.sn, "set_debug", { interval_s: 0.1, duration_min: 5 });
      expect(ack.ok).toBe(false);
      expect(ack.msg).toMatch(/interval_s/);
      expect(d.intervalMs).toBe(10_000);
    });
  });

  describe("set_calib", () => {
    it("keeps the calibration for its local display, across a reboot", async () => {
      const { d } = await startDetector();
      const ack = await command(d.sn, "set_calib", { k: 2, b: 1, t_comp: 0.5, t_ref: 25 });
      expect(ack).toMatchObject({ ok: true });
      expect(d.calibration).toEqual({ k: 2, b: 1, t_comp: 0.5, t_ref: 25 });
      const r = d.lastReading!;
      expect(d.display!.value).toBeCloseTo(2 * r.v_raw + 1 + 0.5 * (r.temp! - 25), 6);
      expect(d.display!.unit).toBe("ppm");
      await d.reboot("test");
      expect(d.calibration).toEqual({ k: 2, b: 1, t_comp: 0.5, t_ref: 25 });
    });

    it("refuses a parameter that is not a number and keeps the old calibration", async () => {
      const { d } = await startDetector();
      const ack = await command(d.sn, "set_calib", { k: "two" });
      expect(ack).toMatchObject({ ok: false, msg: "params.k must be a finite number" });
      expect(d.calibration).toEqual({ k: 1, b: 0, t_comp: 0, t_ref: 20 });
    });
  });

  describe("reboot", () => {
    it("starts a new boot: the ack comes from it, the status shows boot + 1, and seq restarts at 1", async () => {
      const { d, clock } = await startDetector();
      await clock.advance(30_000);
      expect(d.seq).toBe(4);
      await expect.poll(() => d.backlog).toBe(0); // else seq 4 may be resent after the reboot (at least once)
      const ack = await command(d.sn, "reboot");
      expect(ack).toMatchObject({ ok: true, msg: "rebooted (boot 2)" });
      await expect.poll(() => operator.lastStatus(d.sn)).toEqual({ online: true, fw: "1.0.0", boot: 2 });
      expect(d.seq).toBe(1);
      await clock.advance(10_000);
      await expect.poll(() => operator.readings(d.sn).map((r) => r.seq)).toEqual([1, 2, 3, 4, 1, 2]);
    });

    it("a command delivered twice runs once", async () => {
      const { d } = await startDetector();
      const id = randomUUID();
      await operator.command(d.sn, id, "reboot");
      await operator.command(d.sn, id, "reboot");
      await expect.poll(() => operator.ackFor(id), { timeout: 15_000 }).toBeDefined();
      // Commands are handled in order: once a later one is answered, both copies were seen.
      await command(d.sn, "set_calib", { k: 1 });
      expect(d.boot).toBe(2);
      expect(operator.acks.filter((a) => a.ack.id === id)).toHaveLength(1);
    });
  });

  it("answers a command it does not know with ok:false and the reason", async () => {
    const { d } = await startDetector();
    const ack = await command(d.sn, "format_flash");
    expect(ack.ok).toBe(false);
    expect(ack.msg).toMatch(/^invalid command: cmd/);
  });

  describe("ota", () => {
    const ota = (sn: string, params: Partial<{ url: string; version: string; size: number; sha256: string }> = {}) =>
      command(sn, "ota", { url: `${imageBase}/1.1.0.bin`, version: "1.1.0", size: IMAGE.length, sha256: IMAGE_SHA256, ...params });

    it("with a bad checksum is refused with ok:false and the old version keeps running", async () => {
      const { d } = await startDetector();
      const ack = await ota(d.sn, { sha256: "0".repeat(64) });
      expect(ack.ok).toBe(false);
      expect(ack.msg).toMatch(/^sha256 mismatch: image is [0-9a-f]{64}, expected 0{64}; still running 1\.0\.0$/);
      expect(d.fw).toBe("1.0.0");
      expect(d.boot).toBe(1);
      expect(operator.lastStatus(d.sn)).toEqual({ online: true, fw: "1.0.0", boot: 1 });
    });

    it("with an interrupted download is refused and the old version keeps running", async () => {
      const { d } = await startDetector();
      const ack = await ota(d.sn, { url: `${imageBase}/cut.bin` });
      expect(ack.ok).toBe(false);
      expect(ack.msg).toMatch(/^download interrupted after \d+ of 204800 bytes.*; still running 1\.0\.0$/);
      expect(d.fw).toBe("1.0.0");
    });

    it("with the wrong size is refused", async () => {
      const { d } = await startDetector();
      const ack = await ota(d.sn, { size: IMAGE.length + 1 });
      expect(ack).toMatchObject({ ok: false, msg: `size mismatch: the server announces ${IMAGE.length} bytes, the command ${IMAGE.length + 1}; still running 1.0.0` });
    });

    it("from a server its CA does not vouch for is refused", async () => {
      const { d } = await startDetector({ otaCa: broker.ca });
      const ack = await ota(d.sn);
      expect(ack.ok).toBe(false);
      expect(ack.msg).toMatch(/^download failed: .*certificate/);
      expect(d.fw).toBe("1.0.0");
    });

    it("with a good image reboots into the new version, reports it in its status, and then acknowledges", async () => {
      const { d } = await startDetector();
      const ack = await ota(d.sn);
      expect(ack).toMatchObject({ ok: true, msg: "updated from 1.0.0 to 1.1.0" });
      expect(operator.lastStatus(d.sn)).toEqual({ online: true, fw: "1.1.0", boot: 2 });
      expect(d.fw).toBe("1.1.0");
      // The version is in flash: the next boot runs it too.
      await d.reboot("test");
      await expect.poll(() => operator.lastStatus(d.sn)).toEqual({ online: true, fw: "1.1.0", boot: 3 });
    });
  });
});
