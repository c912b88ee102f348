/** A device's serial number: also its MQTT username and the middle of its topics. */
export const SN_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

export type TopicKind = "up" | "status" | "cmd" | "ack";

export const topics = {
  up: (sn: string) => `mcs/${sn}/up`,
  status: (sn: string) => `mcs/${sn}/status`,
  cmd: (sn: string) => `mcs/${sn}/cmd`,
  ack: (sn: string) => `mcs/${sn}/ack`,
} as const satisfies Record<TopicKind, (sn: string) => string>;

/** Device → server topics the worker subscribes to (as `$share/{group}/…`). */
export const INGEST_TOPICS = ["mcs/+/up", "mcs/+/status", "mcs/+/ack"] as const;

const TOPIC = /^mcs\/([A-Za-z0-9_-]{1,32})\/(up|status|cmd|ack)$/;

/** `mcs/A001/up` → `{ sn: "A001", kind: "up" }`; anything else → null. */
export function parseTopic(topic: string): { sn: string; kind: TopicKind } | null {
  const match = TOPIC.exec(topic);
  if (!match) return null;
  return { sn: match[1]!, kind: match[2] as TopicKind };
}
