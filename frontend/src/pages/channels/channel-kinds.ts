import { CHANNEL_TYPES, type ChannelView } from "@mcs/protocol";

export type ChannelType = ChannelView["type"];
export { CHANNEL_TYPES };

/** How a config field is edited. */
export type FieldKind = "text" | "secret" | "number" | "switch" | "tags" | "select";

export interface ConfigField {
  key: string;
  kind: FieldKind;
  /** The server refuses the channel without it (a secret: unless one is stored). */
  required?: boolean;
  /** A recipient list (shown under "recipients", not "connection"). */
  recipients?: boolean;
  /** What a new channel starts with (the server's own default). */
  initial?: unknown;
  options?: readonly string[];
  /** Shown in the empty field, as is (an address's shape, not prose). */
  example?: string;
}

/**
 * The fields of each channel kind, mirroring the server's config schemas
 * (`packages/platform/src/notify/channel-configs.ts`, which the browser cannot import) and its
 * SECRET_KEYS: a secret is write-only, answered as "********". The server checks the values;
 * its refusals land on these fields by key.
 */
export const CHANNEL_KINDS: Record<ChannelType, readonly ConfigField[]> = {
  email: [
    { key: "host", kind: "text", required: true, example: "smtp.exmail.qq.com" },
    { key: "port", kind: "number", initial: 465 },
    { key: "secure", kind: "switch", initial: true },
    { key: "user", kind: "text" },
    { key: "password", kind: "secret" },
    { key: "from", kind: "text", required: true, example: "alarm@plant.cn" },
    { key: "tls_reject_unauthorized", kind: "switch", initial: true },
    { key: "to", kind: "tags", required: true, recipients: true, initial: [], example: "safety@plant.cn" },
  ],
  dingtalk: [
    { key: "url", kind: "secret", required: true, example: "https://oapi.dingtalk.com/robot/send?access_token=…" },
    { key: "secret", kind: "secret", example: "SEC…" },
    { key: "at_mobiles", kind: "tags", recipients: true, initial: [], example: "13800138000" },
    { key: "at_all", kind: "switch", recipients: true, initial: false },
  ],
  feishu: [
    { key: "url", kind: "secret", required: true, example: "https://open.feishu.cn/open-apis/bot/v2/hook/…" },
    { key: "secret", kind: "secret" },
  ],
  wecom: [
    { key: "url", kind: "secret", required: true, example: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…" },
    { key: "mentioned_mobile_list", kind: "tags", recipients: true, initial: [], example: "13800138000 / @all" },
  ],
  webhook: [
    { key: "url", kind: "text", required: true, example: "https://dcs.plant.local/mcs/alarms" },
    { key: "secret", kind: "secret", required: true },
  ],
  sms: [
    { key: "access_key_id", kind: "text", required: true },
    { key: "access_key_secret", kind: "secret", required: true },
    { key: "sign_name", kind: "text", required: true },
    { key: "template_code", kind: "text", required: true, example: "SMS_123456789" },
    { key: "endpoint", kind: "text", initial: "dysmsapi.aliyuncs.com" },
    { key: "protocol", kind: "select", initial: "https", options: ["https", "http"] },
    { key: "phone_numbers", kind: "tags", required: true, recipients: true, initial: [], example: "13800138000" },
  ],
};

/** The config keys of a kind that are write-only. */
export function secretKeys(type: ChannelType): string[] {
  return CHANNEL_KINDS[type].filter((field) => field.kind === "secret").map((field) => field.key);
}

/** The recipients a channel names, for its summary: addresses or mobile numbers. */
export function recipientsOf(channel: ChannelView): string[] {
  const lists = CHANNEL_KINDS[channel.type].filter((field) => field.kind === "tags");
  return lists.flatMap((field) => {
    const value = channel.config[field.key];
    return Array.isArray(value) ? value.map(String) : [];
  });
}
