import { canonicalTimeZone, DEFAULT_PLANT_TIME_ZONE } from "@mcs/protocol";

/**
 * The plant's clock: every page, export and notification writes times in ONE IANA zone (the
 * `plant` setting, default Asia/Shanghai), never in the reader's browser or server zone.
 * Pure and engine-independent (Intl only), shared by the backend, the worker and the browser.
 */
export { DEFAULT_PLANT_TIME_ZONE };

/**
 * A zone that can be used to format times: the one given when it is known, else the default.
 * Never throws: a bad stored zone must not break an alarm notification or a page.
 */
export function plantZoneOr(zone: unknown): string {
  return canonicalTimeZone(zone) ?? DEFAULT_PLANT_TIME_ZONE;
}

/** Whether `zone` is China's one clock (Asia/Shanghai and its aliases: PRC, Asia/Chongqing…): "北京时间" to a Chinese reader. */
export function isBeijingTime(zone: string): boolean {
  return canonicalTimeZone(zone) === "Asia/Shanghai";
}

export interface ZonedParts {
  year: string;
  month: string;
  day: string;
  hour: string;
  minute: string;
  second: string;
  /** Minutes east of UTC at that moment (480 for Asia/Shanghai). */
  offsetMinutes: number;
}

// Building a formatter costs far more than using one; a plant has one zone.
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(zone: string): Intl.DateTimeFormat {
  let found = formatters.get(zone);
  if (!found) {
    found = new Intl.DateTimeFormat("en-US", {
      timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
    });
    formatters.set(zone, found);
  }
  return found;
}

/** The wall-clock fields of `ms` (Unix ms) in `zone` (an unknown zone: the default), with the offset. */
export function zonedParts(ms: number, zone: string): ZonedParts {
  const parts: Record<string, string> = {};
  let format: Intl.DateTimeFormat;
  try {
    format = formatter(zone);
  } catch {
    format = formatter(DEFAULT_PLANT_TIME_ZONE);
  }
  for (const { type, value } of format.formatToParts(ms)) parts[type] = value;
  // Some engines say "24" for midnight even in h23.
  const hour = String(Number(parts.hour) % 24).padStart(2, "0");
  const year = parts.year!.padStart(4, "0");
  const wall = Date.UTC(Number(year), Number(parts.month) - 1, Number(parts.day), Number(hour), Number(parts.minute), Number(parts.second));
  const offsetMinutes = Math.round((wall - Math.floor(ms / 1000) * 1000) / 60_000);
  return { year, month: parts.month!, day: parts.day!, hour, minute: parts.minute!, second: parts.second!, offsetMinutes };
}

/** Minutes east of UTC of `zone` at `ms`. */
export function zoneOffsetMinutes(ms: number, zone: string): number {
  return zonedParts(ms, zone).offsetMinutes;
}

/** "+08:00", "-05:00", "+05:30", "+00:00": as ISO-8601 writes an offset. */
export function isoOffset(offsetMinutes: number): string {
  const sign = offsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(offsetMinutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

/** "UTC+8", "UTC-5", "UTC+5:30", "UTC": short, as people say it. */
export function utcOffsetLabel(offsetMinutes: number): string {
  if (offsetMinutes === 0) return "UTC";
  const sign = offsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(offsetMinutes);
  const minutes = abs % 60;
  return `UTC${sign}${Math.floor(abs / 60)}${minutes ? `:${String(minutes).padStart(2, "0")}` : ""}`;
}

/**
 * `ms` as the plant's wall clock: "2026-12-04 14:03:05" (24 h, the same digits in every
 * language), with the offset after it when `withOffset`: "2026-12-04 14:03:05 +08:00".
 */
export function formatZoned(ms: number, zone: string, options: { withOffset?: boolean } = {}): string {
  if (!Number.isFinite(ms)) return "";
  const p = zonedParts(ms, zone);
  const text = `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
  return options.withOffset ? `${text} ${isoOffset(p.offsetMinutes)}` : text;
}

/** The plant's date of `ms`: "2026-12-04". */
export function zonedDate(ms: number, zone: string): string {
  const p = zonedParts(ms, zone);
  return `${p.year}-${p.month}-${p.day}`;
}

/**
 * The moment (Unix ms) a wall-clock time "YYYY-MM-DD HH:mm[:ss]" names in `zone` (what a
 * date picker gives, read as plant time); NaN when the text is not such a time. In a
 * daylight-saving gap or overlap, the earlier reading of the offset wins.
 */
export function wallClockToMs(text: string, zone: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(text.trim());
  if (!match) return Number.NaN;
  const [, y, mo, d, h, mi, s] = match;
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0));
  // Two rounds settle the offset (it may differ on either side of a change).
  let ms = wall - zoneOffsetMinutes(wall, zone) * 60_000;
  ms = wall - zoneOffsetMinutes(ms, zone) * 60_000;
  return ms;
}

/** Offsets change only on a quarter hour of UTC (every zone's offset is a multiple of 15 min). */
const QUARTER_HOUR_MS = 900_000;

/**
 * The hour of the plant's day of many moments, fast: one Intl lookup per quarter hour seen,
 * then arithmetic (millions of readings in the offline analysis).
 */
export class ZoneClock {
  readonly zone: string;
  private readonly offsets = new Map<number, number>();

  constructor(zone: string = DEFAULT_PLANT_TIME_ZONE) {
    this.zone = plantZoneOr(zone);
  }

  /** Minutes east of UTC at `ms`. */
  offsetMinutes(ms: number): number {
    const quarter = Math.floor(ms / QUARTER_HOUR_MS);
    let offset = this.offsets.get(quarter);
    if (offset === undefined) {
      offset = zoneOffsetMinutes(quarter * QUARTER_HOUR_MS, this.zone);
      this.offsets.set(quarter, offset);
    }
    return offset;
  }

  /** 0–23: the hour of the plant's day at `ms`. */
  hourOf(ms: number): number {
    const dayMs = 86_400_000;
    const local = ms + this.offsetMinutes(ms) * 60_000;
    return Math.floor((((local % dayMs) + dayMs) % dayMs) / 3_600_000);
  }
}
