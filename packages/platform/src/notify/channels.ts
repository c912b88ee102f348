import type { ChannelType } from "./channel-configs.ts";
import { dingTalkSender } from "./dingtalk.ts";
import { emailSender } from "./email.ts";
import { feishuSender } from "./feishu.ts";
import type { ChannelSender } from "./sender.ts";
import { smsSender } from "./sms.ts";
import { webhookSender } from "./webhook.ts";
import { weComSender } from "./wecom.ts";

// The schemas live in channel-configs.ts and the sender types in sender.ts, so that each
// sender can import them without importing this table (and itself, in a cycle).
export {
  CHANNEL_CONFIG_SCHEMAS,
  CHANNEL_TYPES,
  DingTalkConfigSchema,
  EmailConfigSchema,
  FeishuConfigSchema,
  SECRET_KEYS,
  SmsConfigSchema,
  WebhookConfigSchema,
  WeComConfigSchema,
  parseChannelConfig,
  type ChannelType,
  type DingTalkConfig,
  type EmailConfig,
  type FeishuConfig,
  type ParsedChannelConfig,
  type SmsConfig,
  type WebhookConfig,
  type WeComConfig,
} from "./channel-configs.ts";
export { DEFAULT_SEND_TIMEOUT_MS, type ChannelSender, type SendOptions, type SendResult } from "./sender.ts";

export const CHANNEL_SENDERS: Record<ChannelType, ChannelSender> = {
  email: emailSender,
  dingtalk: dingTalkSender,
  feishu: feishuSender,
  wecom: weComSender,
  webhook: webhookSender,
  sms: smsSender,
};
