import type { InboundMessage, MessageSource } from "../worker/src/ingest/message-source.ts";

/**
 * A message source driven by the test: `push` hands a message to the worker and resolves
 * when the worker acknowledges it. It replaces the broker connection only, to test the
 * processor on its own; the broker paths have their own tests.
 */
export class ManualSource implements MessageSource {
  private deliver: ((message: InboundMessage) => void) | undefined;
  readonly acked: string[] = [];
  connected = false;

  async start(deliver: (message: InboundMessage) => void) {
    this.deliver = deliver;
    this.connected = true;
  }

  async stop() {
    this.connected = false;
  }

  push(topic: string, payload: string | Buffer | object): Promise<void> {
    const body = Buffer.isBuffer(payload) ? payload : Buffer.from(typeof payload === "string" ? payload : JSON.stringify(payload));
    return new Promise((resolve) => {
      if (!this.deliver) throw new Error("source not started");
      this.deliver({ topic, payload: body, ack: () => { this.acked.push(topic); resolve(); } });
    });
  }
}
