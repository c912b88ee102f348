import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureCertificates, startEmbeddedBroker, type DeviceMessage, type EmbeddedBroker } from "@mcs/platform";
import { Detector } from "../src/index.ts";
import { fakeClock } from "./support.ts";

// The embedded mode's broker (Aedes, MQTT 3.1.1 only) holds each PUBACK until the consumer
// (the worker) acknowledges: the emulator must work with it as with Mosquitto.
describe("the emulated detector on the embedded Aedes broker", () => {
  let broker: EmbeddedBroker;
  let dir: string;
  let ca: string;
  const received: DeviceMessage[] = [];
  const detectors: Detector[] = [];
  const payloads = (topic: string) => received.filter((m) => m.topic === topic).map((m) => JSON.parse(m.payload.toString()));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "mcs-sim-aedes-"));
    const certs = await ensureCertificates(join(dir, "certs"));
    ca = certs.ca;
    broker = await startEmbeddedBroker({ port: 0, host: "127.0.0.1", certs, authenticate: async (sn, password) => password === `pw-${sn}` });
    broker.takeDeviceMessages((message) => {
      received.push(message);
      message.ack();
    });
  });
  afterAll(async () => {
    await Promise.all(detectors.map((d) => d.stop()));
    await broker?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const start = async (sn: string) => {
    const clock = fakeClock();
    const d = new Detector({ sn, password: `pw-${sn}`, url: `mqtts://localhost:${broker.port}`, ca, clock, gas: "NH3" });
    detectors.push(d);
    await d.start();
    return { d, clock };
  };

  it("logs in over TLS as its sn, publishes its status, readings, and after an outage its backlog as one array", async () => {
    const { d, clock } = await start("AED-1");
    expect(d.state).toBe("running");
    await expect.poll(() => payloads("mcs/AED-1/status")).toEqual([{ online: true, fw: "1.0.0", boot: 1 }]);
    await expect.poll(() => d.backlog).toBe(0);
    d.cutLink();
    await clock.advance(30_000);
    d.restoreLink();
    await expect.poll(() => d.backlog).toBe(0);
    const up = payloads("mcs/AED-1/up");
    expect(up.map((p) => (Array.isArray(p) ? p.map((r: { seq: number }) => r.seq) : p.seq))).toEqual([1, [2, 3, 4]]);
  });

  it("takes a command from the embedded broker and answers it on mcs/{sn}/ack", async () => {
    const { d } = await start("AED-2");
    await expect.poll(() => payloads("mcs/AED-2/status").length).toBe(1);
    const id = randomUUID();
    await broker.publish("mcs/AED-2/cmd", JSON.stringify({ id, cmd: "set_calib", params: { k: 1.5 } }), { qos: 1, retain: false });
    await expect.poll(() => payloads("mcs/AED-2/ack")).toEqual([{ id, ok: true, msg: "calibration k=1.5 b=0 t_comp=0 t_ref=20" }]);
    expect(d.calibration.k).toBe(1.5);
  });
});
