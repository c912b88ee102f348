import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CommandStore, DeviceStore, NoSubscriberError, TelemetryStore, type Ports } from "@mcs/platform";
import { FakeClock } from "../../test-support/fake-clock.ts";
import { ManualSource } from "../../test-support/manual-source.ts";
import { MODES, openTestPorts } from "../../test-support/ports.ts";
import { RecordingPublisher } from "../../test-support/recording-publisher.ts";
import { startWorker, type Worker } from "../src/worker.ts";

// Issue 3, part 4, the worker's side: it sends a device's pending commands when the device
// comes back, consumes `mcs/{sn}/ack` (AckSchema; an unknown id or another device's command
// is a dead letter with its reason), and times out what waited too long (fake clock).
const actor = { name: "tester" };
const HOUR = 3_600_000;

describe.each(MODES)("commands in the worker (%s mode)", (mode) => {
  let ports: Ports;
  let clock: FakeClock;
  let source: ManualSource;
  let worker: Worker;
  let commands: CommandStore;
  let telemetry: TelemetryStore;
  const publisher = new RecordingPublisher();

  const push = async (topic: string, payload: object | string) => {
    await source.push(topic, payload);
    await worker.processor.drain();
  };
  const create = (sn: string, cmd: "set_debug" | "reboot" | "ota" | "set_calib" = "set_debug", expiresAt = clock.now() + HOUR) =>
    commands.create({ id: randomUUID(), sn, cmd, params: { interval_s: 1 }, expiresAt }, actor, clock.now());
  const statusOf = async (sn: string, id: string) => (await commands.get(sn, id))?.status;
  const lastDeadLetter = async () => (await telemetry.recentDeadLetters(1))[0];

  beforeAll(async () => {
    ports = await openTestPorts(mode);
    clock = new FakeClock();
    commands = new CommandStore(ports.db);
    telemetry = new TelemetryStore(ports.db);
    const devices = new DeviceStore(ports.db);
    for (const sn of ["CW-1", "CW-2", "CW-3"]) await devices.create({ sn }, "x", actor);
    source = new ManualSource();
    worker = await startWorker({ ...ports, source, clock, commands: publisher, sweepEveryMs: HOUR });
  });
  afterAll(async () => {
    await worker.stop();
    await ports.close();
  });

  it("keeps a command for an offline device pending, and sends it (oldest first) when the device comes back", async () => {
    const first = await create("CW-1");
    const second = await create("CW-1", "reboot");
    await worker.commandSweep.run();
    expect(publisher.to("CW-1")).toEqual([]);
    await push("mcs/CW-1/status", { online: true, fw: "1.0.0", boot: 1 });
    await expect.poll(() => publisher.to("CW-1").map((c) => c.id), { timeout: 10_000 }).toEqual([first.id, second.id]);
    expect(publisher.to("CW-1")[0]).toEqual({ id: first.id, cmd: "set_debug", params: { interval_s: 1 } });
    await expect.poll(() => statusOf("CW-1", second.id), { timeout: 10_000 }).toBe("sent");
    expect(await commands.get("CW-1", first.id)).toMatchObject({ status: "sent", sent_at: new Date(clock.now()).toISOString() });
  });

  it("records the device's ack: ok → acked with its message", async () => {
    const [command] = await commands.list("CW-1", 1);
    clock.advance(2_000);
    await push("mcs/CW-1/ack", { id: command!.id, ok: true, msg: "rebooting" });
    expect(await commands.get("CW-1", command!.id)).toMatchObject({ status: "acked", msg: "rebooting", acked_at: new Date(clock.now()).toISOString() });
    const [audit] = await ports.db.query(`SELECT actor, action, target FROM audit_log WHERE action LIKE 'command.acked' ORDER BY id DESC LIMIT 1`);
    expect(audit).toEqual({ actor: "device CW-1", action: "command.acked", target: "CW-1" });
  });

  it("records ok:false as failed, with the device's reason", async () => {
    const [, command] = await commands.list("CW-1", 2);
    await push("mcs/CW-1/ack", { id: command!.id, ok: false, msg: "params.interval_s must be a number" });
    expect(await commands.get("CW-1", command!.id)).toMatchObject({ status: "failed", msg: "params.interval_s must be a number" });
  });

  it("ignores an ack sent again (QoS 1 is at least once) without a dead letter", async () => {
    const [command] = await commands.list("CW-1", 1);
    const before = await telemetry.countDeadLetters();
    await push("mcs/CW-1/ack", { id: command!.id, ok: false, msg: "late duplicate" });
    expect(await commands.get("CW-1", command!.id)).toMatchObject({ status: "acked", msg: "rebooting" });
    expect(await telemetry.countDeadLetters()).toBe(before);
  });

  it("dead-letters an ack with an unknown id", async () => {
    const id = randomUUID();
    await push("mcs/CW-1/ack", { id, ok: true });
    expect(await lastDeadLetter()).toMatchObject({ topic: "mcs/CW-1/ack", sn: "CW-1", reason: `unknown command id ${id}` });
  });

  it("dead-letters an ack for another device's command, and leaves that command as it was", async () => {
    const command = await create("CW-2");
    await push("mcs/CW-1/ack", { id: command.id, ok: true });
    expect(await lastDeadLetter()).toMatchObject({ sn: "CW-1", reason: `command ${command.id} was sent to another device` });
    expect(await statusOf("CW-2", command.id)).toBe("pending");
  });

  it.each([
    ["an id that is not a UUID", { id: "42", ok: true }, /^invalid ack: id: Invalid UUID/],
    ["no ok", { id: randomUUID() }, /^invalid ack: ok: /],
    ["a message that is too long", { id: randomUUID(), ok: true, msg: "m".repeat(513) }, /^invalid ack: msg: Too big/],
  ])("dead-letters an ack with %s, naming the field", async (_, ack, reason) => {
    await push("mcs/CW-1/ack", ack);
    expect(await lastDeadLetter()).toMatchObject({ sn: "CW-1", reason: expect.stringMatching(reason) });
  });

  it("dead-letters an ack of an unknown device", async () => {
    await push("mcs/CW-NOBODY/ack", { id: randomUUID(), ok: true });
    expect(await lastDeadLetter()).toMatchObject({ sn: "CW-NOBODY", reason: "unknown device" });
  });

  it("times out a pending command at its expiry (fake clock)", async () => {
    const command = await create("CW-2", "set_calib", clock.now() + 60_000);
    clock.advance(60_000 - 1);
    await worker.commandSweep.run();
    expect(await statusOf("CW-2", command.id)).toBe("pending");
    clock.advance(1);
    await worker.commandSweep.run();
    expect(await commands.get("CW-2", command.id)).toMatchObject({ status: "timeout", sent_at: null, finished_at: new Date(clock.now()).toISOString() });
  });

  it("times out a sent command without an ack after 60 s, and still records a late ack", async () => {
    await push("mcs/CW-3/up", { ts: Math.floor(clock.now() / 1000), seq: 1, v_raw: 1 });
    const command = await create("CW-3");
    await worker.commandSweep.run(); // the device is online: the sweep sends it
    expect(await statusOf("CW-3", command.id)).toBe("sent");
    clock.advance(60_000);
    await worker.commandSweep.run();
    expect(await statusOf("CW-3", command.id)).toBe("timeout");
    await push("mcs/CW-3/ack", { id: command.id, ok: true, msg: "done late" });
    expect(await commands.get("CW-3", command.id)).toMatchObject({ status: "acked", msg: "done late" });
  });

  it("keeps a command pending when the broker will not take it, and sends it on a later sweep", async () => {
    publisher.refuse = new NoSubscriberError("CW-3");
    const command = await create("CW-3");
    await worker.commandSweep.run();
    expect(await statusOf("CW-3", command.id)).toBe("pending");
    publisher.refuse = null;
    await worker.commandSweep.run();
    expect(await statusOf("CW-3", command.id)).toBe("sent");
    expect(publisher.to("CW-3").filter((c) => c.id === command.id)).toHaveLength(1);
  });
});
