import { failed, succeeded, type SendResult } from "./sender.ts";

export interface HttpAnswer {
  status: number;
  body: string;
}

/** POSTs a JSON body; rejects only when no answer came (network error, timeout). */
export async function postJson(url: string, body: string, timeoutMs: number, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  // One signal for the whole exchange: a server that sends headers and then stalls times out too.
  const signal = AbortSignal.timeout(timeoutMs);
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json; charset=utf-8", "user-agent": "mcs-notify/1", ...headers },
    body,
    signal,
    redirect: "error",
  });
  return { status: response.status, body: await response.text() };
}

/** "connect ECONNREFUSED 127.0.0.1:9", "no answer within 10000 ms", … */
export function describeRequestError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) return `no answer within ${timeoutMs} ms`;
  // fetch says only "fetch failed"; the reason is in the cause (an AggregateError when several addresses were tried).
  let cause: unknown = error instanceof Error && error.cause !== undefined ? error.cause : error;
  if (cause instanceof AggregateError && cause.errors.length > 0) cause = cause.errors[0];
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return cause.message || code || cause.name;
  }
  return String(cause);
}

/** Timeouts, rate limits and server errors pass; anything else the far end refused will be refused again. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

export interface RobotCall {
  /** "DingTalk", "Feishu", "WeCom": starts every detail. */
  vendor: string;
  url: string;
  payload: unknown;
  timeoutMs: number;
  /** The name of the result code in the answer, as the vendor spells it. */
  codeField: "errcode" | "code";
  /** Codes that mean "busy or rate limited, try later". */
  retryableCodes: readonly number[];
}

/** Chat robots answer HTTP 200 with a JSON code: 0 is delivered, anything else names the problem. */
export async function callRobot(call: RobotCall): Promise<SendResult> {
  const { vendor, codeField } = call;
  let answer: HttpAnswer;
  try {
    answer = await postJson(call.url, JSON.stringify(call.payload), call.timeoutMs);
  } catch (error) {
    return failed(`${vendor}: ${describeRequestError(error, call.timeoutMs)}`, true);
  }
  if (answer.status < 200 || answer.status >= 300) {
    return failed(`${vendor} answered HTTP ${answer.status}${answer.body ? `: ${answer.body}` : ""}`, isRetryableStatus(answer.status));
  }
  const json = parseJsonObject(answer.body);
  if (json === null) return failed(`${vendor} answered HTTP ${answer.status} without a JSON result: ${answer.body}`, false);
  // Feishu's older answers spell it StatusCode/StatusMessage.
  const code = json[codeField] ?? json.StatusCode;
  const text = String(json.errmsg ?? json.msg ?? json.StatusMessage ?? "");
  if (code === 0) return succeeded(`${vendor} answered ${codeField} 0: ${text}`);
  return failed(`${vendor} answered ${codeField} ${String(code)}: ${text}`, typeof code === "number" && call.retryableCodes.includes(code));
}

function parseJsonObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
