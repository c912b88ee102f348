import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emailSender } from "../../src/notify/email.ts";
import { messageOf, notice } from "./fixtures.ts";
import { unusedPort } from "./local-http.ts";

interface ReceivedMail {
  mailFrom: string;
  rcptTo: string[];
  user: string | undefined;
  raw: string;
}

const USER = "alarm@plant.cn";
const PASSWORD = "correct horse";
const received: ReceivedMail[] = [];
let server: SMTPServer;
let port: number;

beforeAll(async () => {
  server = new SMTPServer({
    // Plain SMTP with AUTH, as a plant relay on port 25 without a certificate would be.
    secure: false,
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
    authMethods: ["PLAIN", "LOGIN"],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === USER && auth.password === PASSWORD) return callback(null, { user: auth.username });
      const error = Object.assign(new Error("Invalid username or password"), { responseCode: 535 });
      callback(error);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        received.push({
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          rcptTo: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          user: typeof session.user === "string" ? session.user : undefined,
          raw: Buffer.concat(chunks).toString("utf8"),
        });
        callback(null, "Message queued as 42");
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function config(overrides: Record<string, unknown> = {}) {
  return { host: "127.0.0.1", port, secure: false, user: USER, password: PASSWORD, from: `燃气报警 <${USER}>`, to: ["duty@plant.cn", "manager@plant.cn"], ...overrides };
}

describe("the e-mail sender, against a local SMTP server", () => {
  it("delivers the alarm: From, To, a Chinese subject and the text body in UTF-8", async () => {
    const result = await emailSender.send(config(), messageOf([notice()], "zh-CN", "https://gas.plant.cn/alarms"));
    expect(result).toEqual({ ok: true, detail: expect.stringMatching(/^SMTP accepted: 250 .*Message queued as 42/), retryable: false });

    const mail = received.at(-1)!;
    expect(mail.user).toBe(USER);
    expect(mail.mailFrom).toBe(USER);
    expect(mail.rcptTo).toEqual(["duty@plant.cn", "manager@plant.cn"]);
    const { headers, text } = parseMail(mail.raw);
    expect(headers.get("subject")).toBe("【二级报警】A001 储罐区 CO 45.2 ppm");
    expect(headers.get("from")).toBe(`燃气报警 <${USER}>`);
    expect(headers.get("to")).toBe("duty@plant.cn, manager@plant.cn");
    expect(headers.get("content-type")).toMatch(/^text\/plain; charset=utf-8/i);
    // Base64 keeps the text's own line ends, quoted-printable writes CRLF: either reads the same in a mail client.
    expect(text.replace(/\r\n/g, "\n").trimEnd()).toBe(
      [
        "【二级报警】A001 储罐区 CO 45.2 ppm",
        "[二级] A001 储罐区 · CO 高限报警 45.2 ppm（限值 40 ppm） · 报警 · 2026-11-26 21:04:05 · 超过二级限值",
        "时间为北京时间（UTC+8）",
        "确认报警: https://gas.plant.cn/alarms",
      ].join("\n"),
    );
  });

  it("reports a wrong password as a config problem, not worth retrying", async () => {
    const before = received.length;
    const result = await emailSender.send(config({ password: "wrong" }), messageOf([notice()]));
    expect(result.ok).toBe(false);
    expect(result.retryable).toBe(false);
    expect(result.detail).toMatch(/^SMTP: Invalid login: 535 .*Invalid username or password/);
    expect(received.length).toBe(before);
  });

  it("reports a refused connection as worth retrying, naming the address", async () => {
    const closed = await unusedPort();
    const result = await emailSender.send(config({ port: closed }), messageOf([notice()]));
    expect(result).toEqual({ ok: false, detail: `SMTP: connect ECONNREFUSED 127.0.0.1:${closed}`, retryable: true });
  });

  it("explains a TLS client talking to a plain port", async () => {
    const result = await emailSender.send(config({ secure: true }), messageOf([notice()]), { timeoutMs: 2000 });
    expect(result.ok).toBe(false);
    expect(result.detail).toContain("set secure to false");
  });
});

/** Enough of RFC 5322/2047/2045 to read back what nodemailer wrote. */
function parseMail(raw: string): { headers: Map<string, string>; text: string } {
  const split = raw.indexOf("\r\n\r\n");
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, " ");
  const body = raw.slice(split + 4);
  const headers = new Map<string, string>();
  for (const line of head.split("\r\n")) {
    const colon = line.indexOf(":");
    headers.set(line.slice(0, colon).toLowerCase(), decodeEncodedWords(line.slice(colon + 1).trim()));
  }
  const encoding = (headers.get("content-transfer-encoding") ?? "7bit").toLowerCase();
  const bytes =
    encoding === "base64"
      ? Buffer.from(body, "base64")
      : encoding === "quoted-printable"
        ? Buffer.from(body.replace(/=\r\n/g, "").replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), "latin1")
        : Buffer.from(body, "utf8");
  return { headers, text: bytes.toString("utf8") };
}

function decodeEncodedWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, "?==?")
    .replace(/=\?([^?]+)\?([BQ])\?([^?]*)\?=/gi, (_, _charset: string, encoding: string, data: string) =>
      encoding.toUpperCase() === "B"
        ? Buffer.from(data, "base64").toString("utf8")
        : Buffer.from(data.replace(/_/g, " ").replace(/=([0-9A-F]{2})/gi, (__, hex: string) => String.fromCharCode(parseInt(hex, 16))), "latin1").toString("utf8"),
    );
}
