import { randomUUID } from "node:crypto";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CommandMessage } from "@mcs/protocol";
import { startMosquitto, type MosquittoInstance } from "../../../test-support/mosquitto.ts";
import { NoSubscriberError } from "../src/commands/command-publisher.ts";
import { MqttCommandPublisher } from "../src/commands/mqtt-command-publisher.ts";

// The services-mode CommandPublisher against the real Mosquitto with the project's config
// and ACL: `mcs-backend` and `mcs-worker` may write `mcs/+/cmd`, a device may not.
const USERS = { "mcs-backend": "backend-pw-cmd-test", "mcs-worker": "worker-pw-cmd-test", P001: "device-pw-p001", P002: "device-pw-p002" };

describe("the MQTT command publisher on Mosquitto", () => {
  let broker: MosquittoInstance;
  const publishers: MqttCommandPublisher[] = [];
  const clients: MqttClient[] = [];

  const publisher = async (user: keyof typeof USERS) => {
    const p = new MqttCommandPublisher({ url: broker.url("tls", user, USERS[user]), ca: broker.ca, clientId: `test-${user}-${randomUUID()}`, publishTimeoutMs: 5_000 });
    publishers.push(p);
    await p.waitConnected();
    return p;
  };
  const device = async (sn: "P001" | "P002") => {
    const client = await mqtt.connectAsync(broker.url("tls", sn, USERS[sn]), { ca: broker.ca, protocolVersion: 4, clean: true, reconnectPeriod: 0 });
    clients.push(client);
    const received: CommandMessage[] = [];
    client.on("message", (_topic, payload) => received.push(JSON.parse(payload.toString()) as CommandMessage));
    await client.subscribeAsync(`mcs/${sn}/cmd`, { qos: 1 });
    return received;
  };
  const command = (): CommandMessage => ({ id: randomUUID(), cmd: "set_debug", params: { interval_s: 1 } });

  beforeAll(async () => {
    broker = await startMosquitto({ users: USERS });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await Promise.all(publishers.map((p) => p.close()));
    await broker?.stop();
  });

  it.each(["mcs-backend", "mcs-worker"] as const)("as %s, puts {id, cmd, params} on mcs/{sn}/cmd at QoS 1; resolves on the broker's PUBACK", async (user) => {
    const received = await device("P001");
    const p = await publisher(user);
    expect(p.connected).toBe(true);
    const sent = command();
    await p.publish("P001", sent);
    await expect.poll(() => received).toEqual([sent]);
    await clients.pop()!.endAsync(true);
  });

  it("refuses when no device is subscribed to the topic (MQTT 5 reason 0x10): the device is not there", async () => {
    const p = await publisher("mcs-backend");
    await expect(p.publish("P002", command())).rejects.toBeInstanceOf(NoSubscriberError);
  });

  it("is refused for an account the ACL does not let write commands (a device)", async () => {
    await device("P001");
    const p = await publisher("P002");
    await expect(p.publish("P001", command())).rejects.toThrow(/Not authorized/);
  });

  it("fails at once, without queueing, while not connected", async () => {
    const p = new MqttCommandPublisher({ url: "mqtt://mcs-backend:x@127.0.0.1:1", clientId: `test-${randomUUID()}`, reconnectMs: 60_000 });
    publishers.push(p);
    expect(p.connected).toBe(false);
    await expect(p.publish("P001", command())).rejects.toThrow(/not connected/);
  });
});
