import { connect } from "node:net";
import type { Health } from "@mcs/protocol";

const DEFAULT_PORTS: Record<string, number> = { "mqtt:": 1883, "mqtts:": 8883 };

export interface BrokerProbe {
  state(): Health["broker"];
  stop(): void;
}

/**
 * In services mode the broker is another process: it is "ok" while its port accepts TCP
 * connections, checked every `everyMs` in the background so that /api/health answers at once.
 */
export function probeBroker(mqttUrl: string, everyMs = 10_000, timeoutMs = 2_000): BrokerProbe {
  const url = new URL(mqttUrl);
  const port = Number(url.port) || DEFAULT_PORTS[url.protocol] || 1883;
  let state: Health["broker"] = "down";

  const check = () => {
    const socket = connect({ host: url.hostname, port, timeout: timeoutMs });
    const done = (up: boolean) => {
      state = up ? "ok" : "down";
      socket.destroy();
    };
    socket.once("connect", () => done(true));
    socket.once("timeout", () => done(false));
    socket.once("error", () => done(false));
  };
  check();
  const timer = setInterval(check, everyMs).unref();
  return { state: () => state, stop: () => clearInterval(timer) };
}
