import { createRequire } from "node:module";
import type DysmsapiModule from "@alicloud/dysmsapi20170525";
import { $OpenApiUtil } from "@alicloud/openapi-core";
import { RuntimeOptions } from "@darabonba/typescript";
import { SmsConfigSchema } from "./channel-configs.ts";
import { alarmTypeName, formatReading, levelName, noticeKindName, type AlarmNotice, type NotificationMessage } from "./message.ts";
import { failed, parseSenderConfig, resolveOptions, succeeded, type ChannelSender, type SendOptions, type SendResult } from "./sender.ts";

// The SDK is CommonJS with `exports.default = Client`: Node gives an ES importer the whole
// exports object as the default import, vitest the class itself. require() is the same in both.
const { default: DysmsapiClient, SendSmsRequest } = createRequire(import.meta.url)("@alicloud/dysmsapi20170525") as typeof DysmsapiModule;

/** Aliyun refuses template variables longer than this. */
const MAX_VARIABLE_CHARS = 35;

/** The variables an approved template uses, e.g. "探测器${sn}${level}${type}，读数${value}，请立即处理". */
export interface SmsTemplateParam {
  sn: string;
  type: string;
  level: string;
  value: string;
}

/**
 * One SMS per message, however many alarms it groups (an alarm storm must not become
 * a hundred texts): the most severe alarm, and how many devices besides.
 */
export function buildSmsTemplateParam(message: NotificationMessage): SmsTemplateParam {
  const { locale, notices } = message;
  const worst = [...notices].sort((a, b) => b.level - a.level)[0];
  if (worst === undefined) return { sn: "-", type: "-", level: "-", value: "-" };
  const devices = new Set(notices.map((notice) => notice.sn)).size;
  const sn = devices > 1 ? (locale === "en" ? `${worst.sn} +${devices - 1}` : `${worst.sn}等${devices}台`) : worst.sn;
  return { sn: clip(sn), type: clip(smsType(worst, message)), level: clip(levelName(worst.level, locale)), value: clip(smsValue(worst)) };
}

function clip(text: string): string {
  return text.slice(0, MAX_VARIABLE_CHARS);
}

/** The template says "alarm"; a cleared or test notice says so in its type. */
function smsType(notice: AlarmNotice, message: NotificationMessage): string {
  const type = alarmTypeName(notice.type, message.locale);
  if (notice.kind !== "cleared" && notice.kind !== "test" && notice.kind !== "late") return type;
  const kind = noticeKindName(notice.kind, message.locale);
  return message.locale === "en" ? `${type} (${kind})` : `${type}（${kind}）`;
}

function smsValue(notice: AlarmNotice): string {
  if (notice.value === null) return "-";
  return `${formatReading(notice.value)}${notice.unit ? ` ${notice.unit}` : ""}`;
}

/**
 * Codes worth another try later: flow control (per minute/hour/day) and the provider's own
 * failures. The rest (isv.*: bad signature name, template, number, balance; auth) need a fix.
 */
function isRetryableSmsCode(code: string): boolean {
  if (code === "isv.BUSINESS_LIMIT_CONTROL" || code.startsWith("Throttling")) return true;
  return code.startsWith("isp.") && code !== "isp.RAM_PERMISSION_DENY";
}

interface AliyunError {
  code?: string;
  statusCode?: number;
  message?: string;
  data?: { Message?: unknown; message?: unknown };
}

/** Aliyun SMS (短信服务) through the official SDK; the endpoint and protocol come from the config. */
export const smsSender: ChannelSender = {
  async send(rawConfig: unknown, message: NotificationMessage, options?: SendOptions): Promise<SendResult> {
    const parsed = parseSenderConfig(SmsConfigSchema, rawConfig, "sms");
    if ("failure" in parsed) return parsed.failure;
    const { config } = parsed;
    const { timeoutMs } = resolveOptions(options);

    const client = new DysmsapiClient(
      new $OpenApiUtil.Config({
        accessKeyId: config.access_key_id,
        accessKeySecret: config.access_key_secret,
        endpoint: config.endpoint,
        protocol: config.protocol,
      }),
    );
    const request = new SendSmsRequest({
      phoneNumbers: config.phone_numbers.join(","),
      signName: config.sign_name,
      templateCode: config.template_code,
      templateParam: JSON.stringify(buildSmsTemplateParam(message)),
    });
    // The outbox retries; the SDK must not, or one alarm could become several texts.
    const runtime = new RuntimeOptions({ readTimeout: timeoutMs, connectTimeout: timeoutMs, autoretry: false, maxAttempts: 1 });
    try {
      const { body } = await client.sendSmsWithOptions(request, runtime);
      const code = body?.code ?? "(no Code)";
      if (code === "OK") return succeeded(`Aliyun SMS answered OK (BizId ${body?.bizId ?? "-"})`);
      return failed(`Aliyun SMS answered ${code}: ${body?.message ?? ""}`, isRetryableSmsCode(code));
    } catch (error) {
      return aliyunFailure(error as AliyunError & Error, timeoutMs);
    }
  },
};

function aliyunFailure(error: AliyunError & Error, timeoutMs: number): SendResult {
  if (error.statusCode === undefined) {
    // No HTTP answer: refused, reset, timed out. The SDK appends the request's method and URL: noise here.
    const reason = (error.message || error.code || error.name).replace(/\s*(GET|POST) https?:\/\/.*$/s, "");
    return failed(`Aliyun SMS: ${/^(Read|Connect)Timeout\(\d+\)\.?$/.test(reason) ? `no answer within ${timeoutMs} ms` : reason}`, true);
  }
  // The SDK's message reads "code: 400, <Message> request id: …"; the answer's own Message is shorter.
  const text = typeof error.data?.Message === "string" ? error.data.Message : error.message;
  const code = error.code ?? `HTTP ${error.statusCode}`;
  return failed(`Aliyun SMS answered HTTP ${error.statusCode} ${code}: ${text}`, error.statusCode >= 500 || isRetryableSmsCode(code));
}
