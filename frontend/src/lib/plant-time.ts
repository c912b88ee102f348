import { ref } from "vue";
import { canonicalTimeZone, DEFAULT_PLANT_TIME_ZONE, type PlantSettings } from "@mcs/protocol";
import { http, type RequestOptions } from "../api/http.ts";
import zhCN from "../i18n/zh-CN.ts";
import en from "../i18n/en.ts";

/**
 * The plant's one clock (issue 15, item 4): every time a page shows is written in this zone,
 * never the browser's own. Asia/Shanghai until `GET /api/settings/plant` has answered (after
 * login, and on the big screen), or when the stored zone is one this browser does not know.
 */
export const plantTimeZone = ref<string>(DEFAULT_PLANT_TIME_ZONE);

/** Sets the zone every formatter uses; an unknown name keeps Asia/Shanghai (with a console warning). */
export function setPlantTimeZone(zone: string): void {
  const known = canonicalTimeZone(zone);
  if (known === null) console.warn(`plant time zone ${JSON.stringify(zone)} is unknown to this browser: Asia/Shanghai is used`);
  plantTimeZone.value = known ?? DEFAULT_PLANT_TIME_ZONE;
}

/**
 * Asks the server for the plant's zone (`options`: the big screen's kiosk token). A failure
 * keeps the zone as it is: the page still shows plant times, in the zone known last.
 */
export async function loadPlantTimeZone(options: RequestOptions = {}): Promise<string> {
  try {
    const answer = await http.get<PlantSettings>("/api/settings/plant", { allowUnauthenticated: true, ...options });
    setPlantTimeZone(answer.time_zone);
  } catch (error) {
    console.warn("could not read the plant time zone", error);
  }
  return plantTimeZone.value;
}

/** Saves a new zone (admins); the server validates it. */
export async function savePlantTimeZone(zone: string): Promise<string> {
  const answer = await http.put<PlantSettings>("/api/settings/plant", { time_zone: zone });
  setPlantTimeZone(answer.time_zone);
  return plantTimeZone.value;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
/** A cached formatter in `zone` (24-hour clock). */
export function zonedFormatter(zone: string, language: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${zone}|${language}|${JSON.stringify(options)}`;
  let found = formatters.get(key);
  if (!found) {
    found = new Intl.DateTimeFormat(language, { timeZone: zone, hourCycle: "h23", ...options });
    formatters.set(key, found);
  }
  return found;
}

const ALL_PARTS: Intl.DateTimeFormatOptions = { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" };

/** The wall-clock parts (`year`, `month`, `day`, `hour`, `minute`, `second`, zero-padded) of `ms` in `zone`. */
export function zonedParts(ms: number, zone: string = plantTimeZone.value): Record<"year" | "month" | "day" | "hour" | "minute" | "second", string> {
  const found: Record<string, string> = {};
  for (const part of zonedFormatter(zone, "en-GB", ALL_PARTS).formatToParts(new Date(ms))) found[part.type] = part.value;
  // Some engines write midnight as "24" even with h23.
  if (found.hour === "24") found.hour = "00";
  return found as Record<"year" | "month" | "day" | "hour" | "minute" | "second", string>;
}

/** `2026-12-04 14:03:05` in `zone` (the plant's by default). */
export function plantDateTime(ms: number, zone: string = plantTimeZone.value): string {
  const p = zonedParts(ms, zone);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

/** The zone's offset from UTC at `ms`, in minutes (480 for Asia/Shanghai). */
export function zoneOffsetMinutes(zone: string, ms: number = Date.now()): number {
  const p = zonedParts(ms, zone);
  const asUtc = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60_000);
}

/** `+08:00`, `-05:00`, `+05:45`. */
export function offsetText(minutes: number): string {
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

/** `UTC+8`, `UTC-5`, `UTC+5:45`. */
function shortOffset(minutes: number): string {
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  return `UTC${sign}${Math.floor(abs / 60)}${abs % 60 ? `:${String(abs % 60).padStart(2, "0")}` : ""}`;
}

/**
 * The zone as shown next to times (`plantTime.label.*`): "Beijing time UTC+8" (in Chinese) for Asia/Shanghai in
 * Chinese, "Asia/Shanghai (UTC+08:00)" in English, any other zone as its IANA name and offset.
 */
export function plantZoneLabel(language: string, zone: string = plantTimeZone.value, ms: number = Date.now()): string {
  const minutes = zoneOffsetMinutes(zone, ms);
  const labels = (language === "en" ? en : zhCN).plantTime.label;
  const template = zone === DEFAULT_PLANT_TIME_ZONE ? labels.beijing : labels.other;
  return template.replace("{zone}", zone).replace("{short}", shortOffset(minutes)).replace("{iso}", `UTC${offsetText(minutes)}`);
}

/** Zones the settings page offers (the server takes any IANA name). */
export const COMMON_TIME_ZONES = [
  "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Kuala_Lumpur", "Asia/Jakarta", "Asia/Bangkok", "Asia/Ho_Chi_Minh",
  "Asia/Tokyo", "Asia/Seoul", "Asia/Kolkata", "Asia/Dubai", "Asia/Riyadh", "Europe/Moscow", "Europe/Istanbul", "Europe/Berlin", "Europe/Paris",
  "Europe/London", "UTC", "America/Sao_Paulo", "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "Australia/Sydney", "Africa/Johannesburg",
] as const;
