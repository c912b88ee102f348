import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { feishuSender } from "../../src/notify/feishu.ts";
import { messageOf, notice } from "./fixtures.ts";
import { startLocalHttpServer, type Answer, type LocalHttpServer, type ReceivedRequest } from "./local-http.ts";

const HOOK = "/open-apis/bot/v2/hook/5e3d587e-d78e-4a07-bd07-265f269f86fd";
const SECRET = "nIMtb7r3N9pkXyXdtAbx6e";
let feishu: LocalHttpServer;

interface FeishuBody {
  timestamp?: string;
  sign?: string;
  msg_type: string;
  content: { post: Record<string, { title: string; content: Array<Array<{ tag: string; text: string; href?: string }>> }> };
}

/**
 * Feishu's custom bot as its docs describe it, written here from the docs and not from the
 * sender: `timestamp + "\n" + secret` (seconds) is the HMAC-SHA256 key, the message is empty,
 * base64; both sent in the JSON body; the timestamp within an hour.
 */
function answerLikeFeishu(request: ReceivedRequest): Answer {
  if (request.url.pathname !== HOOK) return { status: 404, json: { code: 19001, msg: "param invalid: incoming webhook access token invalid" } };
  const body = JSON.parse(request.body) as FeishuBody;
  const key = Buffer.from(`${body.timestamp ?? ""}\n${SECRET}`, "utf8");
  const expected = createHmac("sha256", key).update(Buffer.alloc(0)).digest("base64");
  const fresh = Math.abs(Date.now() / 1000 - Number(body.timestamp)) < 3600;
  if (body.sign !== expected || !fresh) {
    return { json: { code: 19021, data: {}, msg: "sign match fail or timestamp is not within one hour from current time" } };
  }
  return { json: { code: 0, data: {}, msg: "success" } };
}

beforeAll(async () => {
  feishu = await startLocalHttpServer();
});
afterAll(() => feishu.close());

const url = () => feishu.origin + HOOK;
const lastBody = () => JSON.parse(feishu.requests.at(-1)!.body) as FeishuBody;

describe("the Feishu sender, against a local bot that checks signatures", () => {
  it("signs and sends a rich-text post in Chinese: the title, one paragraph per line, a real link", async () => {
    feishu.answer = answerLikeFeishu;
    const result = await feishuSender.send({ url: url(), secret: SECRET }, messageOf([notice()], "zh-CN", "https://gas.plant.cn/alarms"));
    expect(result).toEqual({ ok: true, detail: "Feishu answered code 0: success", retryable: false });

    const body = lastBody();
    expect(body.msg_type).toBe("post");
    expect(body.timestamp).toMatch(/^\d{10}$/);
    expect(Object.keys(body.content.post)).toEqual(["zh_cn"]);
    const post = body.content.post.zh_cn!;
    expect(post.title).toBe("【二级报警】A001 储罐区 CO 45.2 ppm");
    expect(post.content).toEqual([
      [{ tag: "text", text: "[二级] A001 储罐区 · CO 高限报警 45.2 ppm（限值 40 ppm） · 报警 · 2026-11-26 21:04:05 · 超过二级限值" }],
      [{ tag: "text", text: "时间为北京时间（UTC+8）" }],
      [{ tag: "a", text: "确认报警", href: "https://gas.plant.cn/alarms" }],
    ]);
  });

  it("signs with the clock it is given, in seconds", async () => {
    feishu.answer = answerLikeFeishu;
    const now = Date.now() - 120_000;
    expect((await feishuSender.send({ url: url(), secret: SECRET }, messageOf([notice()]), { now: () => now })).ok).toBe(true);
    expect(lastBody().timestamp).toBe(String(Math.floor(now / 1000)));
  });

  it("passes on Feishu's refusal of a wrong secret, as a config problem", async () => {
    feishu.answer = answerLikeFeishu;
    const result = await feishuSender.send({ url: url(), secret: "not-the-secret" }, messageOf([notice()]));
    expect(result).toEqual({
      ok: false,
      detail: "Feishu answered code 19021: sign match fail or timestamp is not within one hour from current time",
      retryable: false,
    });
  });

  it("sends English under en_us, and no signature without a secret", async () => {
    feishu.answer = () => ({ json: { StatusCode: 0, StatusMessage: "success", code: 0, msg: "success" } });
    const result = await feishuSender.send({ url: url() }, messageOf([notice({ kind: "cleared", deviceName: "Tank farm" })], "en"));
    expect(result.ok).toBe(true);
    const body = lastBody();
    expect(body.sign).toBeUndefined();
    expect(body.timestamp).toBeUndefined();
    expect(body.content.post.en_us!.title).toBe("[Level 2 alarm · cleared] A001 Tank farm CO 45.2 ppm");
  });

  it("retries later when Feishu rate-limits or fails, not when the hook is wrong", async () => {
    feishu.answer = () => ({ json: { code: 11232, data: {}, msg: "frequency limited psm[lark.oapi.app_platform_runtime]appID[1]" } });
    expect(await feishuSender.send({ url: url() }, messageOf([notice()]))).toMatchObject({ ok: false, retryable: true });
    feishu.answer = () => ({ status: 502, text: "Bad Gateway" });
    expect(await feishuSender.send({ url: url() }, messageOf([notice()]))).toEqual({ ok: false, detail: "Feishu answered HTTP 502: Bad Gateway", retryable: true });
    feishu.answer = () => "hang";
    expect(await feishuSender.send({ url: url() }, messageOf([notice()]), { timeoutMs: 200 })).toEqual({
      ok: false,
      detail: "Feishu: no answer within 200 ms",
      retryable: true,
    });
    feishu.answer = answerLikeFeishu;
    const wrongHook = await feishuSender.send({ url: `${feishu.origin}/open-apis/bot/v2/hook/wrong`, secret: SECRET }, messageOf([notice()]));
    expect(wrongHook).toMatchObject({ ok: false, retryable: false });
    expect(wrongHook.detail).toContain("HTTP 404");
  });
});
