import { createTransport } from "nodemailer";
import { EmailConfigSchema } from "./channel-configs.ts";
import { renderText, renderTitle, type NotificationMessage } from "./message.ts";
import { failed, parseSenderConfig, resolveOptions, succeeded, type ChannelSender, type SendOptions, type SendResult } from "./sender.ts";

/** Nodemailer's codes for "the server could not be reached or dropped us": worth another try. */
const NETWORK_CODES = new Set(["ECONNECTION", "ESOCKET", "ETIMEDOUT", "EDNS", "EPROXY"]);

interface SmtpError {
  code?: string;
  responseCode?: number;
  message: string;
}

/** E-mail over SMTP: the title as subject, the plain text as body; one connection per send. */
export const emailSender: ChannelSender = {
  async send(rawConfig: unknown, message: NotificationMessage, options?: SendOptions): Promise<SendResult> {
    const parsed = parseSenderConfig(EmailConfigSchema, rawConfig, "email");
    if ("failure" in parsed) return parsed.failure;
    const { config } = parsed;
    const { timeoutMs } = resolveOptions(options);

    const transport = createTransport({
      host: config.host,
      port: config.port,
      secure: config.secure,
      ...(config.user ? { auth: { user: config.user, pass: config.password ?? "" } } : {}),
      tls: { rejectUnauthorized: config.tls_reject_unauthorized },
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
    });
    try {
      const info = await transport.sendMail({ from: config.from, to: config.to, subject: renderTitle(message), text: renderText(message) });
      const rejected = info.rejected.map(String);
      return succeeded(`SMTP accepted: ${info.response}${rejected.length > 0 ? `; refused recipients: ${rejected.join(", ")}` : ""}`);
    } catch (error) {
      return smtpFailure(error as SmtpError);
    } finally {
      transport.close();
    }
  },
};

function smtpFailure(error: SmtpError): SendResult {
  let detail = `SMTP: ${error.message}`;
  // A TLS client talking to a STARTTLS port fails with an OpenSSL record error that names neither.
  if (/wrong version number|packet length too long/i.test(error.message)) detail += " (ports 587 and 25 use STARTTLS: set secure to false)";
  if (error.responseCode !== undefined) {
    // SMTP's own rule: 4xx is transient, 5xx permanent (a wrong password is 535).
    return failed(detail, error.responseCode >= 400 && error.responseCode < 500);
  }
  return failed(detail, error.code !== undefined && NETWORK_CODES.has(error.code));
}
