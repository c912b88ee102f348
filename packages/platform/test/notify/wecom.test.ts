import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fitUtf8, weComSender } from "../../src/notify/wecom.ts";
import { messageOf, notice, storm } from "./fixtures.ts";
import { startLocalHttpServer, type Answer, type LocalHttpServer, type ReceivedRequest } from "./local-http.ts";

const KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa";
let wecom: LocalHttpServer;

interface WeComBody {
  msgtype: string;
  markdown?: { content: string };
  text?: { content: string; mentioned_mobile_list?: string[] };
}

/** WeCom's group robot: the key in the address is the only credential; contents have byte limits. */
function answerLikeWeCom(request: ReceivedRequest): Answer {
  if (request.url.pathname !== "/cgi-bin/webhook/send" || request.url.searchParams.get("key") !== KEY) {
    return { json: { errcode: 93000, errmsg: "invalid webhook url, hint: [1732600000_1], from ip: 127.0.0.1" } };
  }
  const body = JSON.parse(request.body) as WeComBody;
  if (body.msgtype === "markdown" && Buffer.byteLength(body.markdown?.content ?? "") > 4096) {
    return { json: { errcode: 40058, errmsg: "markdown.content exceed max length 4096" } };
  }
  if (body.msgtype === "text" && Buffer.byteLength(body.text?.content ?? "") > 2048) {
    return { json: { errcode: 40058, errmsg: "text.content exceed max length 2048" } };
  }
  return { json: { errcode: 0, errmsg: "ok" } };
}

beforeAll(async () => {
  wecom = await startLocalHttpServer();
});
afterAll(() => wecom.close());

const url = () => `${wecom.origin}/cgi-bin/webhook/send?key=${KEY}`;
const bodies = (from: number) => wecom.requests.slice(from).map((request) => JSON.parse(request.body) as WeComBody);

describe("the WeCom sender, against a local group robot", () => {
  it("sends the alarm as Chinese markdown and nothing else when no one is to be @-ed", async () => {
    wecom.answer = answerLikeWeCom;
    const from = wecom.requests.length;
    const result = await weComSender.send({ url: url() }, messageOf([notice()], "zh-CN", "https://gas.plant.cn/alarms"));
    expect(result).toEqual({ ok: true, detail: "WeCom answered errcode 0: ok", retryable: false });
    const [markdown, ...rest] = bodies(from);
    expect(rest).toEqual([]);
    expect(markdown!.msgtype).toBe("markdown");
    expect(markdown!.markdown!.content).toContain("#### 【二级报警】A001 储罐区 CO 45.2 ppm");
    expect(markdown!.markdown!.content).toContain("**[二级]** A001 储罐区 · CO 高限报警 **45.2 ppm**（限值 40 ppm）");
    expect(markdown!.markdown!.content).toContain("[确认报警](https://gas.plant.cn/alarms)");
  });

  it("follows with a text message that @s the mobiles, since markdown cannot", async () => {
    wecom.answer = answerLikeWeCom;
    const from = wecom.requests.length;
    const result = await weComSender.send({ url: url(), mentioned_mobile_list: ["13800138000", "@all"] }, messageOf([notice()]));
    expect(result.ok).toBe(true);
    const [markdown, text] = bodies(from);
    expect(markdown!.msgtype).toBe("markdown");
    expect(text).toEqual({ msgtype: "text", text: { content: "【二级报警】A001 储罐区 CO 45.2 ppm", mentioned_mobile_list: ["13800138000", "@all"] } });
  });

  it("counts the alarm as sent when only the @ message fails (a retry would post it twice)", async () => {
    wecom.answer = (request) => (JSON.parse(request.body) as WeComBody).msgtype === "text" ? { json: { errcode: 45009, errmsg: "api freq out of limit" } } : answerLikeWeCom(request);
    const result = await weComSender.send({ url: url(), mentioned_mobile_list: ["13800138000"] }, messageOf([notice()]));
    expect(result).toEqual({ ok: true, detail: "WeCom answered errcode 0: ok; the @ message failed: WeCom answered errcode 45009: api freq out of limit", retryable: false });
  });

  it("keeps a storm's markdown within WeCom's 4096 bytes", async () => {
    wecom.answer = answerLikeWeCom;
    const longNames = storm(50).map((n) => ({ ...n, deviceName: "一号罐区东侧管廊第三检测点".repeat(2), reason: "超过二级限值，请立即处理并到现场确认" }));
    const result = await weComSender.send({ url: url() }, messageOf(longNames));
    expect(result.ok).toBe(true);
    const content = bodies(wecom.requests.length - 1)[0]!.markdown!.content;
    expect(Buffer.byteLength(content)).toBeLessThanOrEqual(4096);
    expect(content.endsWith("\n…")).toBe(true);
    expect(fitUtf8("短", 10)).toBe("短");
    expect(Buffer.byteLength(fitUtf8("一二三四五六七八九十", 10))).toBeLessThanOrEqual(10);
  });

  it("passes on a wrong key as a config problem, and retries a rate limit, a 503 and a timeout", async () => {
    wecom.answer = answerLikeWeCom;
    const wrongKey = await weComSender.send({ url: `${wecom.origin}/cgi-bin/webhook/send?key=wrong` }, messageOf([notice()]));
    expect(wrongKey.ok).toBe(false);
    expect(wrongKey.retryable).toBe(false);
    expect(wrongKey.detail).toMatch(/^WeCom answered errcode 93000: invalid webhook url/);

    wecom.answer = () => ({ json: { errcode: 45009, errmsg: "api freq out of limit" } });
    expect(await weComSender.send({ url: url() }, messageOf([notice()]))).toMatchObject({ ok: false, retryable: true });
    wecom.answer = () => ({ status: 503, text: "" });
    expect(await weComSender.send({ url: url() }, messageOf([notice()]))).toMatchObject({ ok: false, retryable: true, detail: "WeCom answered HTTP 503" });
    wecom.answer = () => "hang";
    expect(await weComSender.send({ url: url() }, messageOf([notice()]), { timeoutMs: 200 })).toMatchObject({ ok: false, retryable: true });
  });
});
