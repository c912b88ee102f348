export * from "./message.ts";
export * from "./channels.ts";
export { signDingTalk } from "./dingtalk.ts";
export { signFeishu } from "./feishu.ts";
export { buildWebhookPayload, signWebhookBody, SIGNATURE_HEADER, TIMESTAMP_HEADER, type WebhookAlarm, type WebhookPayload } from "./webhook.ts";
export { buildSmsTemplateParam, type SmsTemplateParam } from "./sms.ts";
