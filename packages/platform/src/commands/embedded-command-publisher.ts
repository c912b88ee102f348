import { topics, type CommandMessage } from "@mcs/protocol";
import type { EmbeddedBroker } from "../broker/aedes-broker.ts";
import type { CommandPublisher } from "./command-publisher.ts";

/**
 * Commands through the in-process Aedes broker (embedded mode): no MQTT connection, no
 * credentials. Resolves once Aedes has routed the command to the device's subscription
 * (and stored it for a device with a persistent session). The broker belongs to its owner.
 */
export class EmbeddedCommandPublisher implements CommandPublisher {
  constructor(private readonly broker: Pick<EmbeddedBroker, "publish" | "aedes">) {}

  get connected(): boolean {
    return !this.broker.aedes.closed;
  }

  publish(sn: string, command: CommandMessage): Promise<void> {
    return this.broker.publish(topics.cmd(sn), JSON.stringify(command), { qos: 1, retain: false });
  }

  async close(): Promise<void> {}
}
