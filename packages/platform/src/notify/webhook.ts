import { createHmac } from "node:crypto";
import { plantZoneOr } from "@mcs/core";
import { WebhookConfigSchema } from "./channel-configs.ts";
import { describeRequestError, isRetryableStatus, postJson } from "./http.ts";
import { renderText, renderTitle, type AlarmNotice, type NotificationMessage } from "./message.ts";
import { failed, parseSenderConfig, resolveOptions, succeeded, type ChannelSender, type SendOptions, type SendResult } from "./sender.ts";

/** One alarm in the webhook's JSON. */
export interface WebhookAlarm {
  id: number;
  sn: string;
  device_name: string | null;
  gas: string | null;
  type: AlarmNotice["type"];
  level: 1 | 2;
  kind: AlarmNotice["kind"];
  /** The reading (named `ppm` by the design contract, in `unit`, which may also be %LEL or %VOL). */
  ppm: number | null;
  unit: string | null;
  limit: number | null;
  /** ISO 8601, UTC: when it began (for kind `late`, in the past) */
  at: string;
  reason: string;
  /** Found in readings that arrived out of time order (补报). */
  late: boolean;
  /** For kind `late`: when the episode ended (null: it still holds). */
  ended_at?: string | null;
  /** The worst value so far, and when. */
  peak_ppm: number | null;
  peak_at: string | null;
}

export interface WebhookPayload {
  /** `alarm.<kind>` for one alarm (alarm.raised, alarm.cleared, alarm.test, …); `alarm.group` for several. */
  event: string;
  /** ISO 8601; inside the signed body, so a receiver can refuse replays of old deliveries. */
  sent_at: string;
  title: string;
  /** The text; its times are the plant's wall clock, in `time_zone`. */
  text: string;
  /** The plant's IANA zone, which the text's times are written in (the JSON times are UTC). */
  time_zone: string;
  link?: string;
  alarms: WebhookAlarm[];
  // With exactly one alarm, its sn, type, level and ppm also at the top level (the design contract).
  sn?: string;
  type?: AlarmNotice["type"];
  level?: 1 | 2;
  ppm?: number | null;
}

export const SIGNATURE_HEADER = "X-MCS-Signature";
export const TIMESTAMP_HEADER = "X-MCS-Timestamp";

/** `sha256=` + hex HMAC-SHA256 of the exact body bytes, keyed with the channel's secret. */
export function signWebhookBody(body: string, secret: string): string {
  return `sha256=${createHmac("sha256", secret).update(body, "utf8").digest("hex")}`;
}

export function buildWebhookPayload(message: NotificationMessage, sentAtMs: number): WebhookPayload {
  const alarms = message.notices.map(
    (notice): WebhookAlarm => ({
      id: notice.alarmId,
      sn: notice.sn,
      device_name: notice.deviceName,
      gas: notice.gas,
      type: notice.type,
      level: notice.level,
      kind: notice.kind,
      ppm: notice.value,
      unit: notice.unit,
      limit: notice.limit,
      at: new Date(notice.at).toISOString(),
      reason: notice.reason,
      late: notice.kind === "late",
      ...(notice.endedAt !== undefined && { ended_at: notice.endedAt === null ? null : new Date(notice.endedAt).toISOString() }),
      peak_ppm: notice.peak ?? null,
      peak_at: notice.peakAt ? new Date(notice.peakAt).toISOString() : null,
    }),
  );
  const [only] = alarms;
  const single = only !== undefined && alarms.length === 1 ? only : undefined;
  return {
    event: single ? `alarm.${single.kind}` : "alarm.group",
    sent_at: new Date(sentAtMs).toISOString(),
    title: renderTitle(message),
    text: renderText(message),
    time_zone: plantZoneOr(message.timeZone),
    ...(message.link ? { link: message.link } : {}),
    alarms,
    ...(single ? { sn: single.sn, type: single.type, level: single.level, ppm: single.ppm } : {}),
  };
}

/**
 * The plant's own system (a DCS gateway, a ticketing system): a signed JSON POST. Any 2xx
 * answer is delivered; the receiver verifies X-MCS-Signature over the raw body.
 */
export const webhookSender: ChannelSender = {
  async send(rawConfig: unknown, message: NotificationMessage, options?: SendOptions): Promise<SendResult> {
    const parsed = parseSenderConfig(WebhookConfigSchema, rawConfig, "webhook");
    if ("failure" in parsed) return parsed.failure;
    const { config } = parsed;
    const { timeoutMs, now } = resolveOptions(options);

    const sentAt = now();
    const body = JSON.stringify(buildWebhookPayload(message, sentAt));
    const headers = { [SIGNATURE_HEADER]: signWebhookBody(body, config.secret), [TIMESTAMP_HEADER]: String(Math.floor(sentAt / 1000)) };
    try {
      const answer = await postJson(config.url, body, timeoutMs, headers);
      const detail = `Webhook answered HTTP ${answer.status}${answer.body ? `: ${answer.body}` : ""}`;
      if (answer.status >= 200 && answer.status < 300) return succeeded(detail);
      return failed(detail, isRetryableStatus(answer.status));
    } catch (error) {
      return failed(`Webhook: ${describeRequestError(error, timeoutMs)}`, true);
    }
  },
};
