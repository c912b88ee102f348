import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { smsSender } from "../../src/notify/sms.ts";
import { messageOf, notice, storm } from "./fixtures.ts";
import { startLocalHttpServer, unusedPort, type LocalHttpServer, type ReceivedRequest } from "./local-http.ts";

let aliyun: LocalHttpServer;

beforeAll(async () => {
  aliyun = await startLocalHttpServer();
});
afterAll(() => aliyun.close());

function config(overrides: Record<string, unknown> = {}) {
  return {
    access_key_id: "LTAI5tTestKeyId",
    access_key_secret: "test-key-secret",
    sign_name: "某某化工",
    template_code: "SMS_476500123",
    phone_numbers: ["13800138000", "13900139000"],
    endpoint: `127.0.0.1:${aliyun.port}`,
    protocol: "http",
    ...overrides,
  };
}

/** The API's parameters, wherever the SDK put them: the query string or a form body. */
function parametersOf(request: ReceivedRequest): URLSearchParams {
  const parameters = new URLSearchParams(request.url.search);
  if (String(request.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) {
    for (const [name, value] of new URLSearchParams(request.body)) parameters.set(name, value);
  }
  return parameters;
}

describe("the SMS sender, the official Aliyun SDK against a local endpoint", () => {
  it("calls SendSms with the numbers, signature, template and a short template parameter", async () => {
    aliyun.answer = () => ({ json: { Code: "OK", Message: "OK", BizId: "900619746936498440^0", RequestId: "F655A8D5-B967-440B-8683-DAD6FF8DE990" } });
    const result = await smsSender.send(config(), messageOf([notice()]));
    expect(result).toEqual({ ok: true, detail: "Aliyun SMS answered OK (BizId 900619746936498440^0)", retryable: false });

    const request = aliyun.requests.at(-1)!;
    expect(request.method).toBe("POST");
    // The SDK names the action in a header (signature v3) or in the query (v1); either way it is SendSms.
    const parameters = parametersOf(request);
    expect(parameters.get("Action") ?? request.headers["x-acs-action"]).toBe("SendSms");
    expect(request.headers["authorization"] ?? parameters.get("Signature")).toBeTruthy();
    expect(parameters.get("PhoneNumbers")).toBe("13800138000,13900139000");
    expect(parameters.get("SignName")).toBe("某某化工");
    expect(parameters.get("TemplateCode")).toBe("SMS_476500123");
    expect(JSON.parse(parameters.get("TemplateParam")!)).toEqual({ sn: "A001", type: "高限报警", level: "二级", value: "45.2 ppm" });
  });

  it("sums a storm up in one SMS: the most severe alarm and how many devices", async () => {
    aliyun.answer = () => ({ json: { Code: "OK", Message: "OK", BizId: "1^0", RequestId: "r" } });
    const notices = storm(12).map((n, index) => ({ ...n, level: index === 7 ? (2 as const) : (1 as const) }));
    expect((await smsSender.send(config(), messageOf(notices))).ok).toBe(true);
    expect(JSON.parse(parametersOf(aliyun.requests.at(-1)!).get("TemplateParam")!)).toEqual({ sn: "B007等12台", type: "高限报警", level: "二级", value: "37 ppm" });

    await smsSender.send(config(), messageOf([notice({ kind: "cleared", type: "FAULT", level: 1, value: null })], "en"));
    expect(JSON.parse(parametersOf(aliyun.requests.at(-1)!).get("TemplateParam")!)).toEqual({ sn: "A001", type: "fault (cleared)", level: "Level 1", value: "-" });
  });

  it("passes on Aliyun's flow control with its message, as worth retrying", async () => {
    aliyun.answer = () => ({ json: { Code: "isv.BUSINESS_LIMIT_CONTROL", Message: "触发分钟级流控Permits:1", RequestId: "r" } });
    expect(await smsSender.send(config(), messageOf([notice()]))).toEqual({
      ok: false,
      detail: "Aliyun SMS answered isv.BUSINESS_LIMIT_CONTROL: 触发分钟级流控Permits:1",
      retryable: true,
    });
  });

  it("does not retry a bad template or key", async () => {
    aliyun.answer = () => ({ json: { Code: "isv.SMS_TEMPLATE_ILLEGAL", Message: "该账号下找不到对应模板", RequestId: "r" } });
    expect(await smsSender.send(config(), messageOf([notice()]))).toEqual({
      ok: false,
      detail: "Aliyun SMS answered isv.SMS_TEMPLATE_ILLEGAL: 该账号下找不到对应模板",
      retryable: false,
    });
    aliyun.answer = () => ({ status: 404, json: { Code: "InvalidAccessKeyId.NotFound", Message: "Specified access key is not found.", RequestId: "r" } });
    expect(await smsSender.send(config(), messageOf([notice()]))).toEqual({
      ok: false,
      detail: "Aliyun SMS answered HTTP 404 InvalidAccessKeyId.NotFound: Specified access key is not found.",
      retryable: false,
    });
  });

  it("retries a server error, a timeout and a refused connection, asking the SDK for one attempt only", async () => {
    const before = aliyun.requests.length;
    aliyun.answer = () => ({ status: 503, json: { Code: "ServiceUnavailable", Message: "The request has failed due to a temporary failure of the server.", RequestId: "r" } });
    expect(await smsSender.send(config(), messageOf([notice()]))).toMatchObject({ ok: false, retryable: true });
    expect(aliyun.requests.length).toBe(before + 1);

    aliyun.answer = () => "hang";
    const timedOut = await smsSender.send(config(), messageOf([notice()]), { timeoutMs: 200 });
    expect(timedOut).toEqual({ ok: false, detail: "Aliyun SMS: no answer within 200 ms", retryable: true });

    const closed = await unusedPort();
    expect(await smsSender.send(config({ endpoint: `127.0.0.1:${closed}` }), messageOf([notice()]))).toEqual({
      ok: false,
      detail: `Aliyun SMS: connect ECONNREFUSED 127.0.0.1:${closed}`,
      retryable: true,
    });
  });
});
