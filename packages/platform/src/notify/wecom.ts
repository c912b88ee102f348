import { WeComConfigSchema } from "./channel-configs.ts";
import { callRobot } from "./http.ts";
import { renderMarkdown, renderTitle, type NotificationMessage } from "./message.ts";
import { parseSenderConfig, resolveOptions, succeeded, type ChannelSender, type SendOptions, type SendResult } from "./sender.ts";

/** -1: system busy; 45009: the robot's 20 messages a minute are used up. */
const WECOM_RETRYABLE_CODES = [-1, 45009];
/** WeCom refuses longer contents (bytes of UTF-8). */
const MARKDOWN_MAX_BYTES = 4096;
const TEXT_MAX_BYTES = 2048;

/**
 * WeCom group robot: the alarm as markdown. Markdown messages cannot @ anyone, so when mobiles
 * are configured a short text message with `mentioned_mobile_list` follows. Once the markdown
 * is delivered the send counts as done even if the @ message fails: a retry would post the
 * alarm twice.
 */
export const weComSender: ChannelSender = {
  async send(rawConfig: unknown, message: NotificationMessage, options?: SendOptions): Promise<SendResult> {
    const parsed = parseSenderConfig(WeComConfigSchema, rawConfig, "wecom");
    if ("failure" in parsed) return parsed.failure;
    const { config } = parsed;
    const { timeoutMs } = resolveOptions(options);
    const robot = { vendor: "WeCom", url: config.url, timeoutMs, codeField: "errcode", retryableCodes: WECOM_RETRYABLE_CODES } as const;

    const markdown = await callRobot({
      ...robot,
      payload: { msgtype: "markdown", markdown: { content: fitUtf8(renderMarkdown(message), MARKDOWN_MAX_BYTES) } },
    });
    if (!markdown.ok || config.mentioned_mobile_list.length === 0) return markdown;

    const mention = await callRobot({
      ...robot,
      payload: { msgtype: "text", text: { content: fitUtf8(renderTitle(message), TEXT_MAX_BYTES), mentioned_mobile_list: config.mentioned_mobile_list } },
    });
    return mention.ok ? markdown : succeeded(`${markdown.detail}; the @ message failed: ${mention.detail}`);
  },
};

/** Cuts at a line end (or else a character end) so that the UTF-8 fits in maxBytes. */
export function fitUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, "utf8") <= maxBytes) return text;
  const ellipsis = "\n…";
  let cut = text;
  while (Buffer.byteLength(cut, "utf8") + Buffer.byteLength(ellipsis, "utf8") > maxBytes) {
    const lineEnd = cut.lastIndexOf("\n");
    // Array.from keeps a surrogate pair whole when a single line is still too long.
    cut = lineEnd > 0 ? cut.slice(0, lineEnd) : Array.from(cut).slice(0, -1).join("");
  }
  return cut + ellipsis;
}
