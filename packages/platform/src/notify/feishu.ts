import { createHmac } from "node:crypto";
import { FeishuConfigSchema } from "./channel-configs.ts";
import { callRobot } from "./http.ts";
import { acknowledgeLabel, renderText, renderTitle, type NotificationMessage } from "./message.ts";
import { parseSenderConfig, resolveOptions, type ChannelSender, type SendOptions, type SendResult } from "./sender.ts";

/** 11232: the bot is sending too often. */
const FEISHU_RETRYABLE_CODES = [11232];

/**
 * Feishu's "签名校验", which differs from DingTalk's: `timestamp + "\n" + secret` (timestamp
 * in seconds) is the HMAC-SHA256 KEY, over an empty message; base64.
 */
export function signFeishu(timestampSeconds: number, secret: string): string {
  return createHmac("sha256", `${timestampSeconds}\n${secret}`).update("").digest("base64");
}

/**
 * Feishu custom bot: a rich-text ("post") message, one paragraph per line, the acknowledge
 * link as a real link. Feishu's bots render Markdown only inside cards.
 */
export const feishuSender: ChannelSender = {
  async send(rawConfig: unknown, message: NotificationMessage, options?: SendOptions): Promise<SendResult> {
    const parsed = parseSenderConfig(FeishuConfigSchema, rawConfig, "feishu");
    if ("failure" in parsed) return parsed.failure;
    const { config } = parsed;
    const { timeoutMs, now } = resolveOptions(options);

    // The text without its title line (the post has its own title) and without the link line (a real link follows).
    const lines = renderText({ ...message, link: undefined }).split("\n").slice(1);
    const paragraphs: object[][] = lines.map((line) => [{ tag: "text", text: line }]);
    if (message.link) paragraphs.push([{ tag: "a", text: acknowledgeLabel(message.locale), href: message.link }]);
    const language = message.locale === "en" ? "en_us" : "zh_cn";
    const payload: Record<string, unknown> = {
      msg_type: "post",
      content: { post: { [language]: { title: renderTitle(message), content: paragraphs } } },
    };
    if (config.secret) {
      const timestamp = Math.floor(now() / 1000);
      payload.timestamp = String(timestamp);
      payload.sign = signFeishu(timestamp, config.secret);
    }
    return callRobot({ vendor: "Feishu", url: config.url, payload, timeoutMs, codeField: "code", retryableCodes: FEISHU_RETRYABLE_CODES });
  },
};
