import mqtt, { type MqttClient } from "mqtt";
import type { AckMessage, DeviceStatusMessage, Reading } from "@mcs/protocol";
import type { MosquittoInstance } from "../../test-support/mosquitto.ts";
import { FakeClock } from "../src/index.ts";

export const WORKER_PASSWORD = "worker-secret-for-simulator-tests";

/** A fake clock two days back, on a 10 s boundary: a few thousand reports later it is still in the past. */
export function fakeClock(): FakeClock {
  return new FakeClock(Math.floor((Date.now() - 2 * 86_400_000) / 10_000) * 10_000);
}

export interface UpMessage {
  sn: string;
  array: boolean;
  readings: Reading[];
}

/**
 * The platform's side of the wire, as the tests see it: a client logged in as the worker
 * account that sends commands and watches every device's `up`, `status` and `ack`.
 */
export class Operator {
  readonly up: UpMessage[] = [];
  readonly status: { sn: string; retain: boolean; status: DeviceStatusMessage }[] = [];
  readonly acks: { sn: string; ack: AckMessage }[] = [];

  private constructor(readonly client: MqttClient) {
    client.on("message", (topic, payload, packet) => {
      const [, sn = "", kind] = topic.split("/");
      const body = JSON.parse(payload.toString());
      if (kind === "up") this.up.push({ sn, array: Array.isArray(body), readings: Array.isArray(body) ? body : [body] });
      else if (kind === "status") this.status.push({ sn, retain: packet.retain, status: body });
      else if (kind === "ack") this.acks.push({ sn, ack: body });
    });
  }

  static async connect(broker: MosquittoInstance, clientId: string): Promise<Operator> {
    const client = await mqtt.connectAsync(broker.url("tls", "mcs-worker", WORKER_PASSWORD), { ca: broker.ca, clientId, protocolVersion: 4, reconnectPeriod: 200, clean: false });
    await client.subscribeAsync(["mcs/+/up", "mcs/+/status", "mcs/+/ack"], { qos: 1 });
    return new Operator(client);
  }

  async command(sn: string, id: string, cmd: string, params: Record<string, unknown> = {}): Promise<void> {
    await this.client.publishAsync(`mcs/${sn}/cmd`, JSON.stringify({ id, cmd, params }), { qos: 1 });
  }

  ackFor(id: string): AckMessage | undefined {
    return this.acks.find((a) => a.ack.id === id)?.ack;
  }

  lastStatus(sn: string): DeviceStatusMessage | undefined {
    return this.status.filter((s) => s.sn === sn).at(-1)?.status;
  }

  /** Every reading seen on `mcs/{sn}/up`, in arrival order. */
  readings(sn: string): Reading[] {
    return this.up.filter((m) => m.sn === sn).flatMap((m) => m.readings);
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}
