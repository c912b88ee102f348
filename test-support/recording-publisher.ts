import type { CommandMessage } from "../packages/protocol/src/index.ts";
import type { CommandPublisher } from "../packages/platform/src/commands/command-publisher.ts";

/**
 * A CommandPublisher that keeps what it was asked to send, for tests of what decides to
 * send (routes, worker); the two real publishers have tests of their own against brokers.
 * `refuse` makes the next publishes fail, as a broker that would not take them.
 */
export class RecordingPublisher implements CommandPublisher {
  readonly sent: { sn: string; command: CommandMessage }[] = [];
  refuse: Error | null = null;
  connected = true;

  async publish(sn: string, command: CommandMessage): Promise<void> {
    if (this.refuse) throw this.refuse;
    this.sent.push({ sn, command });
  }

  async close(): Promise<void> {}

  to(sn: string): CommandMessage[] {
    return this.sent.filter((s) => s.sn === sn).map((s) => s.command);
  }
}
