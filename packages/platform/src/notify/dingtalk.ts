import { createHmac } from "node:crypto";
import { DingTalkConfigSchema } from "./channel-configs.ts";
import { callRobot } from "./http.ts";
import { renderMarkdown, renderTitle, type NotificationMessage } from "./message.ts";
import { parseSenderConfig, resolveOptions, type ChannelSender, type SendOptions, type SendResult } from "./sender.ts";

/** -1: system busy; 130101: more than 20 messages a minute from this robot. */
const DINGTALK_RETRYABLE_CODES = [-1, 130101];

/**
 * DingTalk's "加签": HMAC-SHA256 keyed with the secret over `timestamp + "\n" + secret`
 * (timestamp in ms), base64. DingTalk refuses a timestamp more than an hour off.
 */
export function signDingTalk(timestampMs: number, secret: string): string {
  return createHmac("sha256", secret).update(`${timestampMs}\n${secret}`, "utf8").digest("base64");
}

/** DingTalk custom robot: a markdown message, with the people to @ both in `at` and written in the text (or no one is pinged). */
export const dingTalkSender: ChannelSender = {
  async send(rawConfig: unknown, message: NotificationMessage, options?: SendOptions): Promise<SendResult> {
    const parsed = parseSenderConfig(DingTalkConfigSchema, rawConfig, "dingtalk");
    if ("failure" in parsed) return parsed.failure;
    const { config } = parsed;
    const { timeoutMs, now } = resolveOptions(options);

    const url = new URL(config.url);
    if (config.secret) {
      const timestamp = now();
      // URLSearchParams percent-encodes the base64 (+ / =), as DingTalk asks.
      url.searchParams.set("timestamp", String(timestamp));
      url.searchParams.set("sign", signDingTalk(timestamp, config.secret));
    }
    const mentions = config.at_mobiles.map((mobile) => `@${mobile}`).join(" ");
    const payload = {
      msgtype: "markdown",
      markdown: { title: renderTitle(message), text: mentions ? `${renderMarkdown(message)}\n\n${mentions}` : renderMarkdown(message) },
      at: { atMobiles: config.at_mobiles, isAtAll: config.at_all },
    };
    return callRobot({ vendor: "DingTalk", url: url.toString(), payload, timeoutMs, codeField: "errcode", retryableCodes: DINGTALK_RETRYABLE_CODES });
  },
};
