import mqtt from "mqtt";
import { createLogger } from "@mcs/platform";

const log = createLogger("worker.watch");

/**
 * A second, throwaway connection to Mosquitto (clean session, QoS 0) that sees a copy of
 * every device message: what the worker judges alarms from while its persistent session
 * holds the real stream unacknowledged. Losing a copy loses nothing: the held stream is
 * stored and judged once the worker takes it again.
 */
export async function watchLiveCopy(options: { url: string; ca?: string | Buffer | undefined; clientId: string; topics: string[] }, deliver: (topic: string, payload: Buffer) => void): Promise<() => Promise<void>> {
  const url = new URL(options.url);
  const tls = url.protocol === "mqtts:";
  const client = mqtt.connect({
    protocol: tls ? "mqtts" : "mqtt",
    host: url.hostname,
    port: Number(url.port) || (tls ? 8883 : 1883),
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    clientId: options.clientId,
    protocolVersion: 5,
    clean: true,
    reconnectPeriod: 1_000,
    connectTimeout: 10_000,
    ...(tls ? { ca: options.ca, rejectUnauthorized: true, servername: url.hostname } : {}),
  });
  client.on("message", (topic, payload) => deliver(topic, payload));
  client.on("connect", () => {
    client.subscribe(options.topics, { qos: 0 }, (error) => {
      if (error) log.error({ err: error }, "the live copy could not subscribe");
      else log.warn({ topics: options.topics }, "watching a live copy of the device messages (the stream is held)");
    });
  });
  client.on("error", (error) => log.warn({ err: error }, "live copy connection"));
  return async () => {
    await client.endAsync(true);
  };
}
