import { implausibleTimestamp, MAX_READING_AGE_S } from "@mcs/core";
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

/** A reading as stored: with `deviceTs` when the detector's own time was implausible (`ts` is then the receive time). */
export type ParsedReading = Reading & { deviceTs?: number };

/** What one MQTT message turned into: readings to store, and dead letters for what could not be. */
export type ParsedMessage =
  | { kind: "up"; sn: string; readings: ParsedReading[]; dead: DeadLetter[] }
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
        if (reading.success) readings.push(reading.data);
        else refused.push(deadLetter(topic, sn, `${where}${describe(reading.error)}`, safeStringify(item)));
      });
      return { kind, sn, readings: anchorWrongClocks(readings, nowMs), dead: refused };
    }
  }
}

/**
 * A detector whose clock is wrong (reset to 1970 after a power loss, a modem that never
 * synced) still measures gas: its readings are kept, never dropped, at the time the server
 * received them, with its own time beside them. A message's readings keep their order and
 * the detector's own spacing, ending at the receive time (one second apart where its clock
 * ran backwards or spans more than the age a reading may have).
 */
export function anchorWrongClocks(readings: Reading[], nowMs: number): ParsedReading[] {
  if (readings.every((reading) => implausibleTimestamp(reading.ts, nowMs) === null)) return readings;
  const wrong = readings.filter((reading) => implausibleTimestamp(reading.ts, nowMs) !== null);
  const isWrong = new Set(wrong);
  const nowS = Math.floor(nowMs / 1000);
  const last = wrong[wrong.length - 1]!.ts;
  const ordered = wrong.every((reading, i) => i === 0 || reading.ts > wrong[i - 1]!.ts) && last - wrong[0]!.ts < MAX_READING_AGE_S - 3600;
  let position = 0;
  return readings.map((reading) => {
    if (!isWrong.has(reading)) return reading;
    const ts = ordered ? nowS - (last - reading.ts) : nowS - (wrong.length - 1 - position);
    position++;
    return { ...reading, ts, deviceTs: reading.ts };
  });
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
