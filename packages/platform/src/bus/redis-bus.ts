import type { Redis } from "ioredis";
import { connectRedis } from "../cache/redis-cache.ts";
import type { Bus, BusHandler } from "./bus.ts";

/** The Bus port on Redis pub/sub: one connection publishes, another listens. */
export class RedisBus implements Bus {
  private readonly handlers = new Map<string, Set<BusHandler>>();

  private constructor(private readonly publisher: Redis, private readonly subscriber: Redis) {
    subscriber.on("message", (channel: string, text: string) => {
      const handlers = this.handlers.get(channel);
      if (!handlers) return;
      let message: unknown;
      try {
        message = JSON.parse(text);
      } catch {
        return; // not ours
      }
      for (const handler of handlers) handler(message);
    });
    // After a reconnect, Redis has forgotten our subscriptions (ioredis resubscribes by itself).
  }

  static async connect(url: string): Promise<RedisBus> {
    const [publisher, subscriber] = await Promise.all([connectRedis(url, "mcs-bus-pub"), connectRedis(url, "mcs-bus-sub")]);
    return new RedisBus(publisher, subscriber);
  }

  async publish(channel: string, message: unknown) {
    await this.publisher.publish(channel, JSON.stringify(message));
  }

  async subscribe(channel: string, handler: BusHandler) {
    let handlers = this.handlers.get(channel);
    if (!handlers) {
      handlers = new Set();
      this.handlers.set(channel, handlers);
      await this.subscriber.subscribe(channel);
    }
    handlers.add(handler);
    return async () => {
      handlers.delete(handler);
      if (handlers.size === 0) {
        this.handlers.delete(channel);
        await this.subscriber.unsubscribe(channel).catch(() => {});
      }
    };
  }

  async close() {
    this.publisher.disconnect();
    this.subscriber.disconnect();
  }
}
