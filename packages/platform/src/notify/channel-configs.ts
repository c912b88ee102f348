import { z } from "zod";

export const CHANNEL_TYPES = ["email", "dingtalk", "feishu", "wecom", "webhook", "sms"] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);
const CHINESE_MOBILE = /^1[3-9]\d{9}$/;

const chineseMobile = z.string().trim().regex(CHINESE_MOBILE, "must be an 11-digit Chinese mobile number, e.g. 13800138000");

/** A browser form sends "" for a field left empty: that means "not set", not "set to nothing". */
const optionalSecret = (check: z.ZodString) => z.preprocess((value) => (value === "" ? undefined : value), check.optional());

function parseUrl(value: string): URL | null {
  try {
    return new URL(value);
  } catch {
    return null;
  }
}

/**
 * A robot's webhook address. It carries the robot's token, so it must go over https; plain
 * http is allowed to this machine only (a local relay, the tests).
 */
function robotUrl(example: string, tokenParam?: string) {
  return z
    .string()
    .trim()
    .refine((value) => parseUrl(value) !== null, `must be the robot's webhook address, e.g. ${example}`)
    .refine((value) => {
      const url = parseUrl(value);
      return url === null || url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname));
    }, "must start with https:// (the address carries the robot's token)")
    .refine((value) => {
      const url = parseUrl(value);
      return url === null || tokenParam === undefined || (url.searchParams.get(tokenParam) ?? "") !== "";
    }, `must carry the robot's ${tokenParam ?? "token"}, e.g. ${example}`);
}

/** "alarm@plant.cn" or "燃气报警 <alarm@plant.cn>" */
const mailbox = z
  .string()
  .trim()
  .refine((value) => {
    const address = /<([^<>]+)>$/.exec(value)?.[1] ?? value;
    return z.email().safeParse(address.trim()).success;
  }, 'must be an e-mail address, e.g. alarm@plant.cn or "燃气报警 <alarm@plant.cn>"');

export const EmailConfigSchema = z
  .object({
    host: z.string().trim().min(1, "must name the SMTP server, e.g. smtp.exmail.qq.com"),
    port: z.number().int().min(1).max(65_535).default(465),
    /** true: TLS from the first byte (port 465); false: plain, upgraded with STARTTLS when offered (587, 25). */
    secure: z.boolean().default(true),
    user: optionalSecret(z.string().trim().min(1)),
    password: optionalSecret(z.string().min(1)),
    from: mailbox,
    to: z.array(z.email("must be an e-mail address")).min(1, "must name at least one recipient"),
    /** false only for a plant mail server with a self-signed certificate. */
    tls_reject_unauthorized: z.boolean().default(true),
  })
  .refine((config) => config.password === undefined || config.user !== undefined, {
    path: ["user"],
    message: "must be set when a password is",
  });
export type EmailConfig = z.infer<typeof EmailConfigSchema>;

export const DingTalkConfigSchema = z.object({
  url: robotUrl("https://oapi.dingtalk.com/robot/send?access_token=…", "access_token"),
  /** The robot's "加签" secret; when set every request is signed. */
  secret: optionalSecret(z.string().trim().startsWith("SEC", 'must be the robot\'s signing secret (加签), which starts with "SEC"')),
  at_mobiles: z.array(chineseMobile).default([]),
  at_all: z.boolean().default(false),
});
export type DingTalkConfig = z.infer<typeof DingTalkConfigSchema>;

export const FeishuConfigSchema = z.object({
  url: robotUrl("https://open.feishu.cn/open-apis/bot/v2/hook/…"),
  /** The bot's "签名校验" secret; when set every request is signed. */
  secret: optionalSecret(z.string().trim().min(1)),
});
export type FeishuConfig = z.infer<typeof FeishuConfigSchema>;

export const WeComConfigSchema = z.object({
  url: robotUrl("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…", "key"),
  /** Members to @ by mobile number; "@all" for everyone. */
  mentioned_mobile_list: z
    .array(z.union([chineseMobile, z.literal("@all")], "must be an 11-digit Chinese mobile number or @all"))
    .default([]),
});
export type WeComConfig = z.infer<typeof WeComConfigSchema>;

/** The plant's own system: http is allowed (often an intranet address); the body is signed. */
export const WebhookConfigSchema = z.object({
  url: z
    .string()
    .trim()
    .refine((value) => ["http:", "https:"].includes(parseUrl(value)?.protocol ?? ""), "must be an http:// or https:// address"),
  secret: z.string().min(1, "must be set: the receiver checks X-MCS-Signature with it"),
});
export type WebhookConfig = z.infer<typeof WebhookConfigSchema>;

export const SmsConfigSchema = z.object({
  access_key_id: z.string().trim().min(1, "must be the AccessKey ID of a RAM user allowed to send SMS"),
  access_key_secret: z.string().trim().min(1, "must be the AccessKey secret"),
  /** The approved signature (签名), e.g. 某某化工 */
  sign_name: z.string().trim().min(1, "must be an approved SMS signature (签名)"),
  /** The approved template with ${sn} ${type} ${level} ${value} */
  template_code: z.string().trim().regex(/^SMS_\d+$/, "must be an approved template code, e.g. SMS_123456789"),
  // SendSms takes up to 1000 numbers in one request.
  phone_numbers: z.array(chineseMobile).min(1, "must name at least one mobile number").max(1000),
  endpoint: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, "must be a host name (optionally :port) without http://, e.g. dysmsapi.aliyuncs.com")
    .default("dysmsapi.aliyuncs.com"),
  protocol: z.enum(["https", "http"]).default("https"),
});
export type SmsConfig = z.infer<typeof SmsConfigSchema>;

export const CHANNEL_CONFIG_SCHEMAS: Record<ChannelType, z.ZodType> = {
  email: EmailConfigSchema,
  dingtalk: DingTalkConfigSchema,
  feishu: FeishuConfigSchema,
  wecom: WeComConfigSchema,
  webhook: WebhookConfigSchema,
  sms: SmsConfigSchema,
};

/**
 * Config keys that are secrets: never sent back to a browser, never logged.
 *
 * A robot's webhook address is a secret too (DingTalk, Feishu, WeCom): whoever has it can post
 * to the group, and the vendors' docs warn not to publish it; for WeCom it is the only
 * credential. The generic webhook's address is the plant's own endpoint, not a credential:
 * only its signing secret is.
 */
export const SECRET_KEYS: Record<ChannelType, readonly string[]> = {
  email: ["password"],
  dingtalk: ["url", "secret"],
  feishu: ["url", "secret"],
  wecom: ["url"],
  webhook: ["secret"],
  sms: ["access_key_secret"],
};

export type ParsedChannelConfig = { ok: true; config: unknown } | { ok: false; error: string };

/** Checks a channel's config; the error names each bad field, e.g. "to.0: must be an e-mail address". */
export function parseChannelConfig(type: ChannelType, raw: unknown): ParsedChannelConfig {
  const parsed = CHANNEL_CONFIG_SCHEMAS[type].safeParse(raw);
  if (parsed.success) return { ok: true, config: parsed.data };
  return { ok: false, error: `invalid ${type} config: ${describeIssues(parsed.error)}` };
}

export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join(".") || "(config)"}: ${issue.message}`).join("; ");
}
