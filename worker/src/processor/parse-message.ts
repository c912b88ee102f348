import { implausibleTimestamp } from "@mcs/core";
import {
  AckSchema,
  MAX_READINGS_PER_MESSAGE,
  MAX_UP_PAYLOAD_BYTES,
  parseTopic,
  ReadingSchema,
  StatusSchema,
  type AckMessage,
  type DeviceStatusMessage,
  type Reading,
} from "@mcs/protocol";
import type { DeadLetter } from "@mcs/platform";
import type { z } from "zod";

/** What one MQTT message turned into: readings to store, and dead letters for what could not be. */
export type ParsedMessage =
  | { kind: "up"; sn: string; readings: Reading[]; dead: DeadLetter[] }
  | { kind: "status"; sn: string; status: DeviceStatusMessage }
  | { kind: "ack"; sn: string; ack: AckMessage }
  | { kind: "dead"; dead: DeadLetter[] };

/** Dead letters keep at most this much of a payload: enough to see what went wrong. */
const KEPT_PAYLOAD_CHARS = 4096;

/**
 * Validates one message from a device. Pure: never throws, whatever the bytes; every
 * refused reading comes back as a dead letter with its reason.
 */
export function parseMessage(topic: string, payload: Buffer, nowMs: number): ParsedMessage {
  const address = parseTopic(topic);
  const dead = (reason: string, sn: string | null = address?.sn ?? null, body: string | Buffer = payload): ParsedMessage => ({
    kind: "dead",
    dead: [deadLetter(topic, sn, reason, body)],
  });
  if (!address || address.kind === "cmd") return dead(`unexpected topic ${JSON.stringify(topic.slice(0, 200))}`, null);
  if (payload.length > MAX_UP_PAYLOAD_BYTES) return dead(`payload of ${payload.length} bytes exceeds ${MAX_UP_PAYLOAD_BYTES}`);

  let json: unknown;
  try {
    json = JSON.parse(payload.toString("utf8"));
  } catch {
    return dead("payload is not JSON");
  }

  const { sn, kind } = address;
  switch (kind) {
    case "status": {
      const status = StatusSchema.safeParse(json);
      return status.success ? { kind, sn, status: status.data } : dead(`invalid status: ${describe(status.error)}`);
    }
    case "ack": {
      const ack = AckSchema.safeParse(json);
      return ack.success ? { kind, sn, ack: ack.data } : dead(`invalid ack: ${describe(ack.error)}`);
    }
    case "up": {
      const items = Array.isArray(json) ? json : [json];
      if (items.length === 0) return dead("empty reading array");
      if (items.length > MAX_READINGS_PER_MESSAGE) return dead(`${items.length} readings in one message, at most ${MAX_READINGS_PER_MESSAGE}`);
      const readings: Reading[] = [];
      const refused: DeadLetter[] = [];
      items.forEach((item, index) => {
        const where = Array.isArray(json) ? `reading ${index}: ` : "";
        const reading = ReadingSchema.safeParse(item);
        if (!reading.success) {
          refused.push(deadLetter(topic, sn, `${where}${describe(reading.error)}`, safeStringify(item)));
          return;
        }
        const late = implausibleTimestamp(reading.data.ts, nowMs);
        if (late) refused.push(deadLetter(topic, sn, `${where}${late}`, safeStringify(item)));
        else readings.push(reading.data);
      });
      return { kind, sn, readings, dead: refused };
    }
  }
}

export function deadLetter(topic: string, sn: string | null, reason: string, body: string | Buffer): DeadLetter {
  const text = typeof body === "string" ? body : body.toString("utf8", 0, Math.min(body.length, KEPT_PAYLOAD_CHARS * 4));
  const kept = text.length > KEPT_PAYLOAD_CHARS ? `${text.slice(0, KEPT_PAYLOAD_CHARS)}… (${text.length} chars)` : text;
  return { topic: clean(topic).slice(0, 256), sn, reason: clean(reason), payload: clean(kept) };
}

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => (issue.path.length ? `${issue.path.join(".")}: ${issue.message}` : issue.message))
    .join("; ");
}

function safeStringify(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** PostgreSQL text cannot hold NUL; a device's garbage must still be storable. */
function clean(text: string): string {
  return text.replaceAll("\u0000", "\\u0000");
}
