import { EventEmitter } from "node:events";
import type { Bus, BusHandler } from "./bus.ts";

/** The Bus port inside one process (embedded mode). Messages are copied through JSON, as over Redis. */
export class MemoryBus implements Bus {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  async publish(channel: string, message: unknown) {
    const text = JSON.stringify(message);
    queueMicrotask(() => this.emitter.emit(channel, text));
  }

  async subscribe(channel: string, handler: BusHandler) {
    const listener = (text: string) => handler(JSON.parse(text));
    this.emitter.on(channel, listener);
    return async () => {
      this.emitter.off(channel, listener);
    };
  }

  async close() {
    this.emitter.removeAllListeners();
  }
}
