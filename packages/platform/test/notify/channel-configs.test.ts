import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  CHANNEL_CONFIG_SCHEMAS,
  CHANNEL_SENDERS,
  CHANNEL_TYPES,
  DingTalkConfigSchema,
  EmailConfigSchema,
  SECRET_KEYS,
  SmsConfigSchema,
  WeComConfigSchema,
  parseChannelConfig,
} from "../../src/notify/channels.ts";
import { messageOf, notice } from "./fixtures.ts";

const DINGTALK_URL = "https://oapi.dingtalk.com/robot/send?access_token=abc123";
const SMS = { access_key_id: "LTAI5t", access_key_secret: "s3cret", sign_name: "某某化工", template_code: "SMS_123456789", phone_numbers: ["13800138000"] };

function errorOf(type: (typeof CHANNEL_TYPES)[number], raw: unknown): string {
  const parsed = parseChannelConfig(type, raw);
  if (parsed.ok) throw new Error(`expected ${JSON.stringify(raw)} to be refused`);
  return parsed.error;
}

describe("channel config schemas", () => {
  it("fill in the defaults", () => {
    expect(EmailConfigSchema.parse({ host: "smtp.exmail.qq.com", from: "alarm@plant.cn", to: ["duty@plant.cn"] })).toEqual({
      host: "smtp.exmail.qq.com",
      port: 465,
      secure: true,
      from: "alarm@plant.cn",
      to: ["duty@plant.cn"],
      tls_reject_unauthorized: true,
    });
    expect(DingTalkConfigSchema.parse({ url: DINGTALK_URL })).toEqual({ url: DINGTALK_URL, at_mobiles: [], at_all: false });
    expect(WeComConfigSchema.parse({ url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k" }).mentioned_mobile_list).toEqual([]);
    expect(SmsConfigSchema.parse(SMS)).toMatchObject({ endpoint: "dysmsapi.aliyuncs.com", protocol: "https" });
  });

  it("take an empty secret from a form as not set", () => {
    expect(DingTalkConfigSchema.parse({ url: DINGTALK_URL, secret: "" }).secret).toBeUndefined();
    expect(EmailConfigSchema.parse({ host: "h", from: "燃气报警 <alarm@plant.cn>", to: ["a@b.cn"], user: "", password: "" }).user).toBeUndefined();
  });

  it("name the bad field and say what it must be", () => {
    expect(errorOf("email", { host: "h", from: "alarm", to: ["duty@plant.cn", "nobody"] })).toBe(
      'invalid email config: from: must be an e-mail address, e.g. alarm@plant.cn or "燃气报警 <alarm@plant.cn>"; to.1: must be an e-mail address',
    );
    expect(errorOf("email", { host: "h", from: "a@b.cn", to: [] })).toContain("to: must name at least one recipient");
    expect(errorOf("email", { host: "h", from: "a@b.cn", to: ["a@b.cn"], password: "x" })).toContain("user: must be set when a password is");
    expect(errorOf("email", { from: "a@b.cn", to: ["a@b.cn"] })).toMatch(/^invalid email config: host: /);
    expect(errorOf("dingtalk", { url: "https://oapi.dingtalk.com/robot/send" })).toContain("url: must carry the robot's access_token");
    expect(errorOf("dingtalk", { url: "http://oapi.dingtalk.com/robot/send?access_token=a" })).toContain("url: must start with https://");
    expect(errorOf("dingtalk", { url: DINGTALK_URL, secret: "abc" })).toContain('secret: must be the robot\'s signing secret (加签), which starts with "SEC"');
    expect(errorOf("dingtalk", { url: DINGTALK_URL, at_mobiles: ["1380013800"] })).toContain("at_mobiles.0: must be an 11-digit Chinese mobile number");
    expect(errorOf("feishu", { url: "not a url" })).toContain("url: must be the robot's webhook address");
    expect(errorOf("wecom", { url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send" })).toContain("url: must carry the robot's key");
    expect(errorOf("webhook", { url: "ftp://plant/x", secret: "" })).toBe(
      "invalid webhook config: url: must be an http:// or https:// address; secret: must be set: the receiver checks X-MCS-Signature with it",
    );
    expect(errorOf("sms", { ...SMS, phone_numbers: ["13800138000", "12345"] })).toContain("phone_numbers.1: must be an 11-digit Chinese mobile number");
    expect(errorOf("sms", { ...SMS, template_code: "1234" })).toContain("template_code: must be an approved template code");
    expect(errorOf("sms", { ...SMS, endpoint: "https://dysmsapi.aliyuncs.com" })).toContain("endpoint: must be a host name");
    expect(errorOf("sms", { ...SMS, protocol: "ftp" })).toMatch(/protocol: /);
  });

  it("allow plain http only to this machine for a robot, and anywhere for the plant's own webhook", () => {
    expect(parseChannelConfig("dingtalk", { url: "http://127.0.0.1:8080/robot/send?access_token=a" }).ok).toBe(true);
    expect(parseChannelConfig("feishu", { url: "http://10.0.0.5/hook" }).ok).toBe(false);
    expect(parseChannelConfig("webhook", { url: "http://10.0.0.5/mcs", secret: "s" }).ok).toBe(true);
  });

  it("have a schema and a sender for every channel type, and name secrets that exist in the schema", () => {
    for (const type of CHANNEL_TYPES) {
      expect(CHANNEL_SENDERS[type]).toBeDefined();
      const schema = CHANNEL_CONFIG_SCHEMAS[type];
      const keys = Object.keys((schema as unknown as z.ZodObject).shape);
      expect(SECRET_KEYS[type].length).toBeGreaterThan(0);
      for (const key of SECRET_KEYS[type]) expect(keys).toContain(key);
    }
    expect(SECRET_KEYS.wecom).toEqual(["url"]);
  });

  it("make a sender refuse a bad config without trying, as not retryable", async () => {
    for (const type of CHANNEL_TYPES) {
      const result = await CHANNEL_SENDERS[type].send({}, messageOf([notice()]));
      expect(result.ok).toBe(false);
      expect(result.retryable).toBe(false);
      expect(result.detail).toMatch(new RegExp(`^invalid ${type} config: \\w+: `));
    }
  });
});
