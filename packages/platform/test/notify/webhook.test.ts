import { createHmac, timingSafeEqual } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { webhookSender } from "../../src/notify/webhook.ts";
import { AT, messageOf, notice, storm } from "./fixtures.ts";
import { startLocalHttpServer, type Answer, type LocalHttpServer, type ReceivedRequest } from "./local-http.ts";

const SECRET = "plant-dcs-shared-secret";
let receiver: LocalHttpServer;

/** A plant system receiving the webhook, checking the signature as our docs tell it to. */
function answerLikeReceiver(request: ReceivedRequest): Answer {
  const header = String(request.headers["x-mcs-signature"] ?? "");
  const expected = `sha256=${createHmac("sha256", SECRET).update(Buffer.from(request.body, "utf8")).digest("hex")}`;
  const valid = header.length === expected.length && timingSafeEqual(Buffer.from(header), Buffer.from(expected));
  return valid ? { status: 204 } : { status: 401, text: "bad signature" };
}

beforeAll(async () => {
  receiver = await startLocalHttpServer();
});
afterAll(() => receiver.close());

const url = () => `${receiver.origin}/mcs/alarms`;
const lastBody = () => JSON.parse(receiver.requests.at(-1)!.body) as Record<string, unknown>;

describe("the webhook sender, against a local receiver that checks the HMAC", () => {
  it("POSTs signed JSON naming the alarm's sn, type, level and ppm", async () => {
    receiver.answer = answerLikeReceiver;
    const sentAt = Date.UTC(2026, 10, 26, 13, 4, 7);
    const result = await webhookSender.send({ url: url(), secret: SECRET }, messageOf([notice()], "zh-CN", "https://gas.plant.cn/alarms"), { now: () => sentAt });
    expect(result).toEqual({ ok: true, detail: "Webhook answered HTTP 204", retryable: false });

    const request = receiver.requests.at(-1)!;
    expect(request.method).toBe("POST");
    expect(request.headers["content-type"]).toMatch(/^application\/json/);
    expect(request.headers["x-mcs-timestamp"]).toBe(String(Math.floor(sentAt / 1000)));
    expect(request.headers["x-mcs-signature"]).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(lastBody()).toEqual({
      event: "alarm.raised",
      sent_at: "2026-11-26T13:04:07.000Z",
      title: "【二级报警】A001 储罐区 CO 45.2 ppm",
      text: expect.stringContaining("[二级] A001 储罐区 · CO 高限报警 45.2 ppm（限值 40 ppm）"),
      // The text's times are the plant's wall clock, in this zone; the JSON times are UTC.
      time_zone: "Asia/Shanghai",
      link: "https://gas.plant.cn/alarms",
      alarms: [
        {
          id: 101,
          sn: "A001",
          device_name: "储罐区",
          gas: "CO",
          type: "HIGH",
          level: 2,
          kind: "raised",
          ppm: 45.2,
          unit: "ppm",
          limit: 40,
          at: new Date(AT).toISOString(),
          reason: "超过二级限值",
          late: false,
          peak_ppm: null,
          peak_at: null,
        },
      ],
      sn: "A001",
      type: "HIGH",
      level: 2,
      ppm: 45.2,
    });
  });

  it("sends a group as alarms[] without the single-alarm fields", async () => {
    receiver.answer = answerLikeReceiver;
    expect((await webhookSender.send({ url: url(), secret: SECRET }, messageOf(storm(50)))).ok).toBe(true);
    const body = lastBody();
    expect(body.event).toBe("alarm.group");
    expect(body.alarms).toHaveLength(50);
    expect(body).not.toHaveProperty("sn");
    expect(body).not.toHaveProperty("ppm");
  });

  it("names the kind in the event: a cleared alarm, a test", async () => {
    receiver.answer = answerLikeReceiver;
    await webhookSender.send({ url: url(), secret: SECRET }, messageOf([notice({ kind: "cleared" })]));
    expect(lastBody().event).toBe("alarm.cleared");
    await webhookSender.send({ url: url(), secret: SECRET }, messageOf([notice({ kind: "test" })]));
    expect(lastBody().event).toBe("alarm.test");
  });

  it("reports the receiver's refusal of a wrong secret, as a config problem", async () => {
    receiver.answer = answerLikeReceiver;
    expect(await webhookSender.send({ url: url(), secret: "wrong" }, messageOf([notice()]))).toEqual({
      ok: false,
      detail: "Webhook answered HTTP 401: bad signature",
      retryable: false,
    });
  });

  it("retries later after a 500, a 429 or no answer", async () => {
    receiver.answer = () => ({ status: 500, text: "database down" });
    expect(await webhookSender.send({ url: url(), secret: SECRET }, messageOf([notice()]))).toEqual({
      ok: false,
      detail: "Webhook answered HTTP 500: database down",
      retryable: true,
    });
    receiver.answer = () => ({ status: 429, text: "slow down" });
    expect(await webhookSender.send({ url: url(), secret: SECRET }, messageOf([notice()]))).toMatchObject({ ok: false, retryable: true });
    receiver.answer = () => "hang";
    expect(await webhookSender.send({ url: url(), secret: SECRET }, messageOf([notice()]), { timeoutMs: 200 })).toEqual({
      ok: false,
      detail: "Webhook: no answer within 200 ms",
      retryable: true,
    });
  });
});
