import { DEFAULT_PLANT_TIME_ZONE, formatZoned, isBeijingTime, plantZoneOr, utcOffsetLabel, zoneOffsetMinutes } from "@mcs/core";

export type NotifyLocale = "zh-CN" | "en";

export type AlarmNoticeType = "HIGH" | "LOW" | "FAULT" | "OFFLINE" | "LOW_BATTERY";
/** `late`: an episode found in readings that arrived out of time order (补报): it happened in the past. */
export type AlarmNoticeKind = "raised" | "level_up" | "repeat" | "escalation" | "cleared" | "test" | "late";

/** One alarm as a notification names it. */
export interface AlarmNotice {
  alarmId: number;
  sn: string;
  deviceName: string | null;
  gas: string | null;
  unit: string | null;
  type: AlarmNoticeType;
  level: 1 | 2;
  kind: AlarmNoticeKind;
  value: number | null;
  limit: number | null;
  /** ms since the epoch: when it began (the reading's own time) */
  at: number;
  reason: string;
  /** For a late notice: when the episode ended (null: it still holds). */
  endedAt?: number | null | undefined;
  /** The worst value so far, and when (shown when it differs from `value`). */
  peak?: number | null | undefined;
  peakAt?: number | null | undefined;
}

/** What goes out on a channel: one alarm, or several grouped during an alarm storm. */
export interface NotificationMessage {
  notices: AlarmNotice[];
  locale: NotifyLocale;
  /** Where to acknowledge, e.g. https://host/alarms */
  link?: string | undefined;
  /** The plant's IANA zone, which every time is written in (the `plant` setting); default and fallback Asia/Shanghai. */
  timeZone?: string | undefined;
}

/** Most notices a message lists one by one; the rest are only counted ("… and 30 more"). */
export const MAX_LISTED_NOTICES = 20;

interface Words {
  type: Record<AlarmNoticeType, string>;
  kind: Record<AlarmNoticeKind, string>;
  levelName: Record<1 | 2, string>;
  levelAlarm: Record<1 | 2, string>;
  levelUpTag: string;
  tag: (label: string, kind: string) => string;
  bracket: (tag: string) => string;
  alarmSummary: (devices: number, levelTwo: number) => string;
  clearedSummary: (devices: number) => string;
  limit: (limit: string) => string;
  peak: (value: string, at: string) => string;
  until: (end: string | null) => string;
  more: (count: number) => string;
  /** The line naming the zone the times are in. */
  zone: (zone: string, offset: string) => string;
  acknowledge: string;
}

const WORDS: Record<NotifyLocale, Words> = {
  "zh-CN": {
    type: { HIGH: "高限报警", LOW: "低限报警", FAULT: "故障", OFFLINE: "离线", LOW_BATTERY: "电量低" },
    kind: {
      raised: "报警",
      level_up: "升级为二级",
      repeat: "重复提醒（未确认）",
      escalation: "升级通知（超时未确认）",
      cleared: "已恢复",
      test: "测试消息",
      late: "补报（迟到数据）",
    },
    levelName: { 1: "一级", 2: "二级" },
    levelAlarm: { 1: "一级报警", 2: "二级报警" },
    levelUpTag: "升级为二级报警",
    tag: (label, kind) => `${label}·${kind}`,
    bracket: (tag) => `【${tag}】`,
    alarmSummary: (devices, levelTwo) => `【报警汇总】${devices} 台探测器报警${levelTwo > 0 ? `（二级 ${levelTwo} 条）` : ""}`,
    clearedSummary: (devices) => `【恢复汇总】${devices} 台探测器已恢复`,
    limit: (limit) => `（限值 ${limit}）`,
    peak: (value, at) => `峰值 ${value}（${at}）`,
    until: (end) => (end === null ? "至今仍在" : `至 ${end}`),
    more: (count) => `… 另有 ${count} 条`,
    zone: (zone, offset) => (isBeijingTime(zone) ? `时间为北京时间（${offset}）` : `时间为 ${zone} 时间（${offset}）`),
    acknowledge: "确认报警",
  },
  en: {
    type: { HIGH: "high alarm", LOW: "low alarm", FAULT: "fault", OFFLINE: "offline", LOW_BATTERY: "low battery" },
    kind: {
      raised: "alarm",
      level_up: "raised to level 2",
      repeat: "reminder (not acknowledged)",
      escalation: "escalation (not acknowledged in time)",
      cleared: "cleared",
      test: "test message",
      late: "late (found in delayed readings)",
    },
    levelName: { 1: "Level 1", 2: "Level 2" },
    levelAlarm: { 1: "Level 1 alarm", 2: "Level 2 alarm" },
    levelUpTag: "Raised to level 2 alarm",
    tag: (label, kind) => `${label} · ${kind}`,
    bracket: (tag) => `[${tag}] `,
    alarmSummary: (devices, levelTwo) =>
      `[Alarm summary] ${devices} ${devices === 1 ? "detector" : "detectors"} in alarm${levelTwo > 0 ? ` (${levelTwo} at level 2)` : ""}`,
    clearedSummary: (devices) => `[Cleared] ${devices} ${devices === 1 ? "detector" : "detectors"} back to normal`,
    limit: (limit) => ` (limit ${limit})`,
    peak: (value, at) => `peak ${value} at ${at}`,
    until: (end) => (end === null ? "still holding" : `until ${end}`),
    more: (count) => `… and ${count} more`,
    zone: (zone, offset) => `Times are ${zone} time (${offset})`,
    acknowledge: "Acknowledge",
  },
};

export function renderTitle(message: NotificationMessage): string {
  // Only a message about demo detectors alone says so: a real alarm never looks like a demo.
  const demo = message.notices.length > 0 && message.notices.every(isDemoNotice) ? DEMO_TAG[message.locale] : "";
  return demo + plainTitle(message);
}

/** The embedded server's demo detectors, as the demo fleet registers them ("DEMO-002", "演示探测器 2"). */
const DEMO_DEVICE = { sn: /^DEMO-\d{3,}$/, name: /^演示探测器 \d+$/ };
const DEMO_TAG: Record<NotifyLocale, string> = { "zh-CN": "[演示]", en: "[Demo] " };

/** A notice about a demo detector: its serial number and its name both as the demo made them (a renamed one is taken as real). */
export function isDemoNotice(notice: Pick<AlarmNotice, "sn" | "deviceName">): boolean {
  return DEMO_DEVICE.sn.test(notice.sn) && DEMO_DEVICE.name.test(notice.deviceName ?? "");
}

function plainTitle(message: NotificationMessage): string {
  const words = WORDS[message.locale];
  const [only] = message.notices;
  if (only && message.notices.length === 1) return words.bracket(noticeTag(only, message.locale)) + headline(only);
  const devices = new Set(message.notices.map((notice) => notice.sn)).size;
  if (message.notices.length > 0 && message.notices.every((notice) => notice.kind === "cleared")) return words.clearedSummary(devices);
  return words.alarmSummary(devices, message.notices.filter((notice) => notice.level === 2).length);
}

/** Plain text: the title, one line per notice, the zone the times are in, then where to acknowledge. */
export function renderText(message: NotificationMessage): string {
  const words = WORDS[message.locale];
  const zone = plantZoneOr(message.timeZone);
  const { listed, unlisted } = pickListed(message.notices);
  const lines = [renderTitle(message), ...listed.map((notice) => noticeLine(notice, words, false, zone))];
  if (unlisted > 0) lines.push(words.more(unlisted));
  if (message.notices.length > 0) lines.push(zoneLine(message, zone));
  if (message.link) lines.push(`${words.acknowledge}: ${message.link}`);
  return lines.join("\n");
}

/** The subset of Markdown that DingTalk, Feishu and WeCom robots all render: a heading, a list, bold, a link. */
export function renderMarkdown(message: NotificationMessage): string {
  const words = WORDS[message.locale];
  const zone = plantZoneOr(message.timeZone);
  const { listed, unlisted } = pickListed(message.notices);
  const items = listed.map((notice) => `- ${noticeLine(notice, words, true, zone)}`);
  if (unlisted > 0) items.push(`- ${words.more(unlisted)}`);
  const parts = [`#### ${renderTitle(message)}`, items.join("\n")];
  if (message.notices.length > 0) parts.push(zoneLine(message, zone));
  if (message.link) parts.push(`[${words.acknowledge}](${message.link})`);
  return parts.join("\n\n");
}

/** The plant's wall-clock time, "2026-11-26 21:04:05", in `timeZone` (default Asia/Shanghai; an unknown zone: the default). */
export function formatPlantTime(ms: number, timeZone: string = DEFAULT_PLANT_TIME_ZONE): string {
  return formatZoned(ms, plantZoneOr(timeZone));
}

/** "时间为北京时间（UTC+8）" / "Times are Asia/Shanghai time (UTC+8)": the offset as at the newest notice. */
function zoneLine(message: NotificationMessage, zone: string): string {
  const newest = Math.max(...message.notices.map((notice) => notice.at));
  return WORDS[message.locale].zone(zone, utcOffsetLabel(zoneOffsetMinutes(newest, zone)));
}

/** "45.2", "40", "0.05": at most two decimals, no trailing zeros. */
export function formatReading(value: number): string {
  return String(Number(value.toFixed(2)));
}

/** What the alarm is, short: "二级报警" for a gas alarm, "故障" for a fault, "二级故障" when a fault is level 2. */
export function alarmLabel(notice: AlarmNotice, locale: NotifyLocale): string {
  const words = WORDS[locale];
  if (isGasAlarm(notice)) return words.levelAlarm[notice.level];
  const type = words.type[notice.type];
  if (notice.level !== 2) return capitalise(type, locale);
  return locale === "en" ? `Level 2 ${type}` : `二级${type}`;
}

export function alarmTypeName(type: AlarmNoticeType, locale: NotifyLocale): string {
  return WORDS[locale].type[type];
}

/** "二级" / "Level 2" */
export function levelName(level: 1 | 2, locale: NotifyLocale): string {
  return WORDS[locale].levelName[level];
}

export function acknowledgeLabel(locale: NotifyLocale): string {
  return WORDS[locale].acknowledge;
}

export function noticeKindName(kind: AlarmNoticeKind, locale: NotifyLocale): string {
  return WORDS[locale].kind[kind];
}

function noticeTag(notice: AlarmNotice, locale: NotifyLocale): string {
  const words = WORDS[locale];
  const label = alarmLabel(notice, locale);
  if (notice.kind === "raised") return label;
  // 补报 first: whoever reads the title must know at once that this happened in the past.
  if (notice.kind === "late") return locale === "en" ? `Late · ${label}` : `补报·${label}`;
  if (notice.kind === "level_up" && isGasAlarm(notice)) return words.levelUpTag;
  if (notice.kind === "test") return capitalise(words.kind.test, locale);
  return words.tag(label, words.kind[notice.kind]);
}

/** "A001 储罐区 CO 45.2 ppm": the device, then the gas and the reading when there is one. */
function headline(notice: AlarmNotice): string {
  return [deviceName(notice), oneLine(notice.gas), reading(notice.value, notice.unit)].filter(Boolean).join(" ");
}

/** "[二级] A001 储罐区 · CO 高限报警 45.2 ppm（限值 40 ppm） · 报警 · 2026-11-26 21:04:05 · reason" */
function noticeLine(notice: AlarmNotice, words: Words, markdown: boolean, zone: string): string {
  const plantTime = (ms: number) => formatZoned(ms, zone);
  const strong = (text: string) => (markdown ? `**${text}**` : text);
  const mark = isGasAlarm(notice) || notice.level === 2 ? `[${words.levelName[notice.level]}]` : "";
  const what = [oneLine(notice.gas), words.type[notice.type]].filter(Boolean).join(" ");
  const value = reading(notice.value, notice.unit);
  const limit = notice.limit === null ? "" : words.limit(reading(notice.limit, notice.unit));
  // A late notice is about the past: when it began, until when, and its worst.
  const when = notice.kind === "late" && notice.endedAt !== undefined
    ? `${plantTime(notice.at)} ${words.until(notice.endedAt === null ? null : plantTime(notice.endedAt))}`
    : plantTime(notice.at);
  const peak = notice.peak !== undefined && notice.peak !== null && notice.peak !== notice.value && notice.peakAt
    ? words.peak(reading(notice.peak, notice.unit), plantTime(notice.peakAt))
    : "";
  const fields = [
    [notice.level === 2 ? strong(mark) : mark, deviceName(notice)].filter(Boolean).join(" "),
    [what, value ? strong(value) + limit : ""].filter(Boolean).join(" "),
    notice.kind === "late" ? strong(words.kind.late) : words.kind[notice.kind],
    when,
    peak,
    oneLine(notice.reason),
  ];
  return fields.filter(Boolean).join(" · ");
}

/** Level 2 first (they need someone now), otherwise in the order given. */
function pickListed(notices: readonly AlarmNotice[]): { listed: AlarmNotice[]; unlisted: number } {
  const ordered = [...notices].sort((a, b) => b.level - a.level);
  return { listed: ordered.slice(0, MAX_LISTED_NOTICES), unlisted: Math.max(0, ordered.length - MAX_LISTED_NOTICES) };
}

function isGasAlarm(notice: AlarmNotice): boolean {
  return notice.type === "HIGH" || notice.type === "LOW";
}

function deviceName(notice: AlarmNotice): string {
  return [oneLine(notice.sn), oneLine(notice.deviceName)].filter(Boolean).join(" ");
}

function reading(value: number | null, unit: string | null): string {
  if (value === null) return "";
  return [formatReading(value), oneLine(unit)].filter(Boolean).join(" ");
}

/** A name with a line break would split the one-line-per-notice layout. */
function oneLine(text: string | null): string {
  return (text ?? "").replace(/\s+/g, " ").trim();
}

function capitalise(text: string, locale: NotifyLocale): string {
  return locale === "en" ? text.charAt(0).toUpperCase() + text.slice(1) : text;
}
