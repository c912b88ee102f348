import { pino, type Logger } from "pino";

export type { Logger };

const root = pino({
  level: process.env.LOG_LEVEL ?? (process.env.VITEST ? "silent" : "info"),
  base: undefined,
  // Secrets never reach the log, whatever object a caller hands over.
  redact: { paths: ["password", "*.password", "mqtt_password", "*.mqtt_password", "token", "*.token", "secret", "*.secret"], censor: "[redacted]" },
});

/** A logger per component (`worker.ingest`, `backend.http`, …). */
export function createLogger(component: string): Logger {
  return root.child({ component });
}
