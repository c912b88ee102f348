import type { z } from "zod";
import { describeIssues } from "./channel-configs.ts";
import type { NotificationMessage } from "./message.ts";

export interface SendResult {
  ok: boolean;
  /** What the far end answered, short (for the "send test" button and the outbox row) */
  detail: string;
  /** true when retrying later may help (network error, 5xx, rate limited); false for a wrong config (4xx, auth) */
  retryable: boolean;
}

export interface SendOptions {
  /** Default 10 s. */
  timeoutMs?: number;
  /** The clock the signatures' timestamps come from (ms). */
  now?: () => number;
}

export interface ChannelSender {
  /** Never rejects: every failure comes back as `ok: false` with what went wrong. */
  send(config: unknown /* parsed by the type's schema */, message: NotificationMessage, options?: SendOptions): Promise<SendResult>;
}

export const DEFAULT_SEND_TIMEOUT_MS = 10_000;

/** Long enough for a vendor's error message, short enough for an outbox row and a toast. */
const MAX_DETAIL_CHARS = 300;

export function shortDetail(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= MAX_DETAIL_CHARS ? flat : `${flat.slice(0, MAX_DETAIL_CHARS - 1)}…`;
}

export function succeeded(detail: string): SendResult {
  return { ok: true, detail: shortDetail(detail), retryable: false };
}

export function failed(detail: string, retryable: boolean): SendResult {
  return { ok: false, detail: shortDetail(detail), retryable };
}

/** A config that does not parse will not parse on a retry either. */
export function parseSenderConfig<T>(schema: z.ZodType<T>, raw: unknown, type: string): { config: T } | { failure: SendResult } {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { config: parsed.data };
  return { failure: failed(`invalid ${type} config: ${describeIssues(parsed.error)}`, false) };
}

export function resolveOptions(options: SendOptions | undefined): { timeoutMs: number; now: () => number } {
  return { timeoutMs: options?.timeoutMs ?? DEFAULT_SEND_TIMEOUT_MS, now: options?.now ?? Date.now };
}
