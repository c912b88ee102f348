import { parseTopic } from "@mcs/protocol";
import type { DeviceMessage, EmbeddedBroker } from "@mcs/platform";
import type { InboundMessage, MessageSource } from "./message-source.ts";


/**
 * The embedded mode's message source: device messages straight from the in-process
 * Aedes broker, no MQTT client in between. `ack()` releases the device's PUBACK, which
 * the broker holds until then (see `startEmbeddedBroker`); QoS 0 messages and wills
 * have nothing to acknowledge.
 */
export class AedesSource implements MessageSource {
  private detach: (() => void) | null = null;

  constructor(private readonly broker: Pick<EmbeddedBroker, "aedes" | "takeDeviceMessages">) {}

  get connected(): boolean {
    return !this.broker.aedes.closed;
  }

  async start(deliver: (message: InboundMessage) => void): Promise<void> {
    if (this.detach) throw new Error("AedesSource already started");
    this.detach = this.broker.takeDeviceMessages((message: DeviceMessage) => {
      // The device → server topics the worker takes (the broker's ACL allows no others).
      const address = parseTopic(message.topic);
      if (!address || address.kind === "cmd") return message.ack(); // nothing of the worker's: let it go
      deliver({ topic: message.topic, payload: message.payload, ack: message.ack });
    });
  }

  async stop(): Promise<void> {
    this.detach?.();
    this.detach = null;
  }
}
