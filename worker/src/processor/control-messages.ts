import type { AckMessage, DeviceStatusMessage } from "@mcs/protocol";
import type { Clock, CommandStore, DeadLetter, DeviceStore } from "@mcs/platform";
import { deadLetter } from "./parse-message.ts";

/**
 * What a device's status and ack messages change in the database: the firmware and boot
 * it reports, and the outcome of the command it answers. Applied inside the batch's
 * commit, before the messages are acknowledged, and idempotent, since a retried batch
 * applies them again. A refusal is answered as a dead letter for the batch to store.
 */
export class ControlMessages {
  constructor(
    private readonly devices: DeviceStore,
    private readonly commands: CommandStore,
    private readonly clock: Clock,
  ) {}

  async status(sn: string, status: DeviceStatusMessage): Promise<DeadLetter[]> {
    if (status.fw !== undefined || status.boot !== undefined) await this.devices.reportFirmware(sn, status.fw, status.boot);
    return [];
  }

  async ack(sn: string, topic: string, ack: AckMessage, payload: Buffer): Promise<DeadLetter[]> {
    const outcome = await this.commands.applyAck(sn, ack, this.clock.now());
    switch (outcome.kind) {
      case "applied":
      case "duplicate":
        return [];
      case "unknown":
        return [deadLetter(topic, sn, `unknown command id ${ack.id}`, payload)];
      case "other-device":
        return [deadLetter(topic, sn, `command ${ack.id} was sent to another device`, payload)];
    }
  }
}
