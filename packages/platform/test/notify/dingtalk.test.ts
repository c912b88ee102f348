import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dingTalkSender } from "../../src/notify/dingtalk.ts";
import { messageOf, notice, storm } from "./fixtures.ts";
import { startLocalHttpServer, unusedPort, type Answer, type LocalHttpServer, type ReceivedRequest } from "./local-http.ts";

const TOKEN = "0f1e2d3c4b5a";
const SECRET = "SEC5a3ecf88f2b3eb50db30ecfc00f53033ac909c99bf7f88fd612bda89d7f3a9dc";
let dingtalk: LocalHttpServer;

/**
 * DingTalk's custom robot as its docs describe it, written here from the docs and not from
 * the sender: with 加签 on, `sign` is base64(HMAC-SHA256(key = secret, timestamp + "\n" + secret)),
 * URL-encoded, and `timestamp` (ms) must be within an hour.
 */
function answerLikeDingTalk(request: ReceivedRequest): Answer {
  if (request.url.pathname !== "/robot/send" || request.url.searchParams.get("access_token") !== TOKEN) {
    return { json: { errcode: 300001, errmsg: "token is not exist" } };
  }
  const timestamp = request.url.searchParams.get("timestamp") ?? "";
  const sign = request.url.searchParams.get("sign") ?? "";
  const expected = createHmac("sha256", Buffer.from(SECRET, "utf8")).update(Buffer.from(`${timestamp}\n${SECRET}`, "utf8")).digest("base64");
  const fresh = Math.abs(Date.now() - Number(timestamp)) < 3_600_000;
  // The raw query must carry the base64 percent-encoded (a bare "+" would read as a space).
  const encoded = request.url.search.includes(`sign=${encodeURIComponent(expected)}`);
  if (sign !== expected || !fresh || !encoded) {
    return { json: { errcode: 310000, errmsg: "sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]" } };
  }
  return { json: { errcode: 0, errmsg: "ok" } };
}

beforeAll(async () => {
  dingtalk = await startLocalHttpServer();
});
afterAll(() => dingtalk.close());

const url = () => `${dingtalk.origin}/robot/send?access_token=${TOKEN}`;
const lastBody = () => JSON.parse(dingtalk.requests.at(-1)!.body) as { msgtype: string; markdown: { title: string; text: string }; at: unknown };

describe("the DingTalk sender, against a local robot that checks signatures", () => {
  it("signs, sends markdown in Chinese and @s the duty phones in `at` and in the text", async () => {
    dingtalk.answer = answerLikeDingTalk;
    const result = await dingTalkSender.send(
      { url: url(), secret: SECRET, at_mobiles: ["13800138000", "13900139000"] },
      messageOf([notice()], "zh-CN", "https://gas.plant.cn/alarms"),
    );
    expect(result).toEqual({ ok: true, detail: "DingTalk answered errcode 0: ok", retryable: false });

    const request = dingtalk.requests.at(-1)!;
    expect(request.method).toBe("POST");
    expect(request.headers["content-type"]).toMatch(/^application\/json/);
    const body = lastBody();
    expect(body.msgtype).toBe("markdown");
    expect(body.markdown.title).toBe("【二级报警】A001 储罐区 CO 45.2 ppm");
    expect(body.markdown.text).toContain("#### 【二级报警】A001 储罐区 CO 45.2 ppm");
    expect(body.markdown.text).toContain("**[二级]** A001 储罐区 · CO 高限报警 **45.2 ppm**（限值 40 ppm）");
    expect(body.markdown.text).toContain("[确认报警](https://gas.plant.cn/alarms)");
    expect(body.markdown.text.endsWith("@13800138000 @13900139000")).toBe(true);
    expect(body.at).toEqual({ atMobiles: ["13800138000", "13900139000"], isAtAll: false });
  });

  it("signs with the clock it is given", async () => {
    dingtalk.answer = answerLikeDingTalk;
    const now = Date.now() - 60_000;
    await dingTalkSender.send({ url: url(), secret: SECRET }, messageOf([notice()]), { now: () => now });
    expect(dingtalk.requests.at(-1)!.url.searchParams.get("timestamp")).toBe(String(now));
  });

  it("passes on DingTalk's refusal of a wrong secret, as a config problem", async () => {
    dingtalk.answer = answerLikeDingTalk;
    const result = await dingTalkSender.send({ url: url(), secret: "SECnot-the-robots-secret" }, messageOf([notice()]));
    expect(result.ok).toBe(false);
    expect(result.retryable).toBe(false);
    expect(result.detail).toMatch(/^DingTalk answered errcode 310000: sign not match/);
  });

  it("sends no signature when no secret is set, and @s everyone when asked", async () => {
    dingtalk.answer = () => ({ json: { errcode: 0, errmsg: "ok" } });
    const result = await dingTalkSender.send({ url: url(), at_all: true }, messageOf(storm(30), "en"));
    expect(result.ok).toBe(true);
    const request = dingtalk.requests.at(-1)!;
    expect(request.url.searchParams.has("sign")).toBe(false);
    expect(request.url.searchParams.has("timestamp")).toBe(false);
    const body = lastBody();
    expect(body.at).toEqual({ atMobiles: [], isAtAll: true });
    expect(body.markdown.title).toBe("[Alarm summary] 30 detectors in alarm (10 at level 2)");
    expect(body.markdown.text).toContain("- … and 10 more");
  });

  it("passes on a wrong token", async () => {
    dingtalk.answer = answerLikeDingTalk;
    const result = await dingTalkSender.send({ url: `${dingtalk.origin}/robot/send?access_token=nope` }, messageOf([notice()]));
    expect(result).toEqual({ ok: false, detail: "DingTalk answered errcode 300001: token is not exist", retryable: false });
  });

  it("retries later when DingTalk is rate limiting, failing (5xx), silent or unreachable", async () => {
    dingtalk.answer = () => ({ json: { errcode: 130101, errmsg: "send too fast, exceed 20 times per minute" } });
    expect(await dingTalkSender.send({ url: url() }, messageOf([notice()]))).toMatchObject({ ok: false, retryable: true });

    dingtalk.answer = () => ({ status: 500, text: "Internal Server Error" });
    expect(await dingTalkSender.send({ url: url() }, messageOf([notice()]))).toEqual({
      ok: false,
      detail: "DingTalk answered HTTP 500: Internal Server Error",
      retryable: true,
    });

    dingtalk.answer = () => "hang";
    expect(await dingTalkSender.send({ url: url() }, messageOf([notice()]), { timeoutMs: 200 })).toEqual({
      ok: false,
      detail: "DingTalk: no answer within 200 ms",
      retryable: true,
    });

    const closed = await unusedPort();
    expect(await dingTalkSender.send({ url: `http://127.0.0.1:${closed}/robot/send?access_token=${TOKEN}` }, messageOf([notice()]))).toEqual({
      ok: false,
      detail: `DingTalk: connect ECONNREFUSED 127.0.0.1:${closed}`,
      retryable: true,
    });
  });

  it("does not retry what DingTalk refused as a bad request", async () => {
    dingtalk.answer = () => ({ status: 404, text: "not found" });
    expect(await dingTalkSender.send({ url: url() }, messageOf([notice()]))).toEqual({ ok: false, detail: "DingTalk answered HTTP 404: not found", retryable: false });
  });
});
