import { ALARM_TYPES, SECRET_MASK, type ChannelCreate, type ChannelPatch, type ChannelView } from "@mcs/protocol";
import { CHANNEL_KINDS, type ChannelType } from "./channel-kinds.ts";

export type AlarmType = (typeof ALARM_TYPES)[number];
export type Locale = ChannelView["locale"];

export interface WindowForm {
  /** 1 = Monday … 7 = Sunday. */
  days: number[];
  start: string;
  end: string;
}

export interface ScheduleForm {
  timezone: string;
  windows: WindowForm[];
  holidays: string[];
  workdays: string[];
}

/** What the channel drawer edits. Secrets are what was typed ("" = keep the stored one). */
export interface ChannelForm {
  type: ChannelType;
  name: string;
  enabled: boolean;
  locale: Locale;
  config: Record<string, unknown>;
  /** The config's secrets that the server holds (shown as "set, leave empty to keep"). */
  secretsSet: string[];
  allDevices: boolean;
  sns: string[];
  allTypes: boolean;
  types: AlarmType[];
  min_level: 1 | 2;
  /** false: always (schedule null). */
  scheduled: boolean;
  schedule: ScheduleForm;
  level2_always: boolean;
  repeat_every_min: number | null;
  escalate_after_min: number | null;
  min_interval_s: number | null;
}

export const DEFAULT_TIMEZONE = "Asia/Shanghai";
/** Monday to Friday, 08:00–18:00: the first window a schedule gets. */
export function workingWindow(): WindowForm {
  return { days: [1, 2, 3, 4, 5], start: "08:00", end: "18:00" };
}

export function newSchedule(): ScheduleForm {
  return { timezone: DEFAULT_TIMEZONE, windows: [workingWindow()], holidays: [], workdays: [] };
}

function initialConfig(type: ChannelType): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const field of CHANNEL_KINDS[type]) {
    if (field.initial !== undefined) config[field.key] = Array.isArray(field.initial) ? [...field.initial] : field.initial;
    else config[field.key] = field.kind === "number" ? null : field.kind === "switch" ? false : "";
  }
  return config;
}

/** A new channel as the server would make it: every device, every alarm, every hour. */
export function newChannelForm(type: ChannelType): ChannelForm {
  return {
    type, name: "", enabled: true, locale: "zh-CN", config: initialConfig(type), secretsSet: [],
    allDevices: true, sns: [], allTypes: true, types: [], min_level: 1,
    scheduled: false, schedule: newSchedule(), level2_always: true,
    repeat_every_min: 0, escalate_after_min: 0, min_interval_s: 0,
  };
}

export function formOf(channel: ChannelView): ChannelForm {
  const form = newChannelForm(channel.type);
  for (const field of CHANNEL_KINDS[channel.type]) {
    const value = channel.config[field.key];
    if (field.kind === "secret") {
      form.config[field.key] = "";
      if (value === SECRET_MASK) form.secretsSet.push(field.key);
    } else if (value !== undefined && value !== null) {
      form.config[field.key] = Array.isArray(value) ? [...value] : value;
    }
  }
  const schedule = channel.schedule;
  return {
    ...form,
    name: channel.name,
    enabled: channel.enabled,
    locale: channel.locale,
    allDevices: channel.sns === null,
    sns: channel.sns ? [...channel.sns] : [],
    allTypes: channel.types === null,
    types: channel.types ? [...channel.types] : [],
    min_level: channel.min_level,
    scheduled: schedule !== null,
    schedule: schedule
      ? {
          timezone: schedule.timezone,
          windows: schedule.windows.map((window) => ({ days: [...window.days], start: window.start, end: window.end })),
          holidays: [...schedule.holidays],
          workdays: [...schedule.workdays],
        }
      : newSchedule(),
    level2_always: channel.level2_always,
    repeat_every_min: channel.repeat_every_min,
    escalate_after_min: channel.escalate_after_min,
    min_interval_s: channel.min_interval_s,
  };
}

/**
 * The config to send: a secret left empty is left out (the server keeps the stored one), as
 * is an optional text left empty (the server's default, or "not set").
 */
export function configOf(form: ChannelForm): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const field of CHANNEL_KINDS[form.type]) {
    const value = form.config[field.key];
    switch (field.kind) {
      case "secret":
      case "text":
      case "select": {
        const text = typeof value === "string" ? value.trim() : "";
        if (text !== "" || (field.kind !== "secret" && field.required)) config[field.key] = text;
        break;
      }
      case "number":
        if (typeof value === "number") config[field.key] = value;
        break;
      case "switch":
        config[field.key] = value === true;
        break;
      case "tags":
        config[field.key] = Array.isArray(value) ? value.map((item) => String(item).trim()).filter(Boolean) : [];
        break;
    }
  }
  return config;
}

/** The body of a POST (a new channel) or a PATCH (every field but the type). */
export function bodyOf(form: ChannelForm): ChannelCreate {
  return {
    type: form.type,
    name: form.name.trim(),
    enabled: form.enabled,
    locale: form.locale,
    config: configOf(form),
    sns: form.allDevices ? null : [...form.sns],
    types: form.allTypes ? null : [...form.types],
    min_level: form.min_level,
    schedule: form.scheduled
      ? {
          timezone: form.schedule.timezone.trim() || DEFAULT_TIMEZONE,
          windows: form.schedule.windows.map((window) => ({ days: [...window.days].sort((a, b) => a - b), start: window.start, end: window.end })),
          holidays: [...form.schedule.holidays].sort(),
          workdays: [...form.schedule.workdays].sort(),
        }
      : null,
    level2_always: form.level2_always,
    repeat_every_min: form.repeat_every_min ?? 0,
    escalate_after_min: form.escalate_after_min ?? 0,
    min_interval_s: form.min_interval_s ?? 0,
  } as ChannelCreate;
}

export function patchOf(form: ChannelForm): ChannelPatch {
  const { type: _type, ...patch } = bodyOf(form);
  return patch as ChannelPatch;
}

const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;
const END_TIME = /^(([01]\d|2[0-3]):[0-5]\d|24:00)$/;

/** Problem keys (i18n, under channels.problems) by field, for what the server would refuse. */
export function formProblems(form: ChannelForm): Record<string, string> {
  const problems: Record<string, string> = {};
  for (const field of CHANNEL_KINDS[form.type]) {
    if (!field.required) continue;
    const value = form.config[field.key];
    const empty = Array.isArray(value) ? value.length === 0 : typeof value === "string" ? value.trim() === "" : value === null || value === undefined;
    if (empty && !(field.kind === "secret" && form.secretsSet.includes(field.key))) problems[`config.${field.key}`] = "required";
  }
  if (!form.allDevices && form.sns.length === 0) problems.sns = "noDevices";
  if (!form.allTypes && form.types.length === 0) problems.types = "noTypes";
  if (form.scheduled) {
    if (form.schedule.windows.length === 0) problems["schedule.windows"] = "noWindows";
    form.schedule.windows.forEach((window, index) => {
      if (window.days.length === 0) problems[`schedule.windows.${index}`] = "noDays";
      else if (!TIME.test(window.start) || !END_TIME.test(window.end)) problems[`schedule.windows.${index}`] = "badTime";
      else if (window.start === window.end) problems[`schedule.windows.${index}`] = "emptyWindow";
    });
    const both = form.schedule.workdays.find((date) => form.schedule.holidays.includes(date));
    if (both) problems["schedule.workdays"] = "holidayAndWorkday";
  }
  return problems;
}

/**
 * The server's refusal by field: `body.config.to.0: must be an e-mail address (a email
 * channel)` → `{"config.to": "bad-address: must be an e-mail address"}` (the entry named); `body.schedule.windows[1].end: …`
 * → `{"schedule.windows.1": …}`; `body.name: …` → `{name: …}`.
 */
export function serverFieldErrors(message: string, sentConfig: Record<string, unknown> = {}): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const raw of message.split("; ")) {
    const part = raw.replace(/ \(channel type \w+\)$/, "");
    const match = /^body\.([\w.[\]]+): (.+)$/.exec(part);
    if (!match?.[1] || !match[2]) continue;
    const path = match[1].replace(/\[(\d+)\]/g, ".$1").split(".");
    let key: string;
    let text = match[2];
    if (path[0] === "config" && path[1]) {
      key = `config.${path[1]}`;
      // One entry of a list (`to.0`): named by its value, as the tag shows it.
      const list = sentConfig[path[1]];
      const entry = path[2] !== undefined && Array.isArray(list) ? list[Number(path[2])] : undefined;
      if (entry !== undefined) text = `${String(entry)}: ${text}`;
    } else if (path[0] === "schedule" && path[1] === "windows" && path[2] !== undefined && /^\d+$/.test(path[2])) key = `schedule.windows.${path[2]}`;
    else if (path[0] === "schedule" && path[1]) key = `schedule.${path[1]}`;
    else key = path[0] ?? "_form";
    errors[key] ??= text;
  }
  return errors;
}
