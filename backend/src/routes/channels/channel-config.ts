import { validateSchedule } from "@mcs/core";
import { CHANNEL_CONFIG_SCHEMAS, SECRET_KEYS, type ChannelRecord, type ChannelType } from "@mcs/platform";
import { SECRET_MASK, type ChannelView } from "@mcs/protocol";
import { badRequest } from "../../errors.ts";

/** How many problems one 400 answer names (as the validation errors do). */
const MAX_LISTED = 5;

type Config = Record<string, unknown>;

const isSet = (value: unknown) => value !== undefined && value !== null && value !== "";

/** The config with each secret that is set shown as "********". */
export function maskSecrets(type: ChannelType, config: Config): Config {
  const masked = { ...config };
  for (const key of SECRET_KEYS[type]) if (isSet(masked[key])) masked[key] = SECRET_MASK;
  return masked;
}

/** A channel as answered: secrets are write-only. */
export function toChannel(record: ChannelRecord): ChannelView {
  return { ...record, config: maskSecrets(record.type, record.config) };
}

/** What the audit log keeps of a channel: everything but the secrets' values. */
export function redactChannel(record: ChannelRecord): unknown {
  return toChannel(record);
}

/**
 * The config to store, checked against its type's schema (400 naming `body.config.<field>`).
 * `stored` is the channel's current config of the same type: a secret left out or sent as
 * "********" keeps its stored value (answers never show it, so a form cannot send it back).
 */
export function checkConfig(type: ChannelType, given: Config, stored: Config | null): Config {
  const config = { ...given };
  for (const key of SECRET_KEYS[type]) {
    const value = given[key];
    if (value !== undefined && value !== SECRET_MASK) continue;
    if (stored !== null && isSet(stored[key])) config[key] = stored[key];
    else if (value === SECRET_MASK) {
      throw badRequest(`body.config.${key}: "${SECRET_MASK}" stands for the stored secret, but ${stored === null ? "a new channel has" : "this channel has"} none: give the secret itself`);
    }
  }
  const parsed = CHANNEL_CONFIG_SCHEMAS[type].safeParse(config);
  if (parsed.success) return parsed.data as Config;
  const lines = parsed.error.issues.map((issue) => {
    const path = issue.path.map((key) => `.${String(key)}`).join("");
    return `body.config${path}: ${issue.message.replace(/^Invalid input: /, "")}`;
  });
  if (lines.length > MAX_LISTED) lines.splice(MAX_LISTED, lines.length, `and ${lines.length - MAX_LISTED} more`);
  throw badRequest(`${lines.join("; ")} (channel type ${type})`);
}

/** A schedule's problem (bad time zone, time, weekday, date) as a 400 naming `body.schedule.<field>`. */
export function checkSchedule(schedule: unknown): void {
  if (schedule === null || schedule === undefined) return;
  const problem = validateSchedule(schedule);
  if (problem !== null) throw badRequest(`body.schedule.${problem}`);
}

/**
 * A far end's answer may quote what it was sent (a robot's address with its token): every
 * secret value of the channel is blotted out before the answer leaves.
 */
export function withoutSecretValues(text: string, type: ChannelType, config: Config): string {
  const secrets = new Set<string>();
  for (const key of SECRET_KEYS[type]) {
    const value = config[key];
    if (typeof value !== "string" || value.length < 4) continue;
    secrets.add(value);
    if (URL.canParse(value)) {
      for (const param of new URL(value).searchParams.values()) if (param.length >= 6) secrets.add(param);
    }
  }
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join(SECRET_MASK);
  return out;
}
