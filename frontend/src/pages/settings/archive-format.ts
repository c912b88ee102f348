import type { ArchiveObject, ArchiveRun } from "@mcs/protocol";
import { currentLanguage, i18n } from "../../i18n/index.ts";

const t = i18n.global.t;

type ArchiveKind = ArchiveObject["kind"];

/** A count as the user's language groups digits: 1,234,567. */
export function formatCount(value: number): string {
  return new Intl.NumberFormat(currentLanguage.value).format(value);
}

const BYTE_UNITS = ["B", "KB", "MB", "GB", "TB"] as const;

/** 1536 → "1.5 KB" (powers of 1024, at most one decimal). */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = unit === 0 || value >= 100 ? String(Math.round(value)) : value.toFixed(1).replace(/\.0$/, "");
  return `${text} ${BYTE_UNITS[unit]}`;
}

/** How many times smaller the gzip is than the CSV, "12.3 : 1"; null before anything is written. */
export function compressionRatio(run: Pick<ArchiveRun, "bytes" | "raw_bytes">): string | null {
  if (run.bytes <= 0 || run.raw_bytes <= 0) return null;
  const ratio = run.raw_bytes / run.bytes;
  return `${ratio >= 100 ? Math.round(ratio) : ratio.toFixed(1)} : 1`;
}

/** 850 → "850 ms", 65_000 → "1 min 5 s" (in the user's language); "—" while it runs. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return t("common.empty");
  if (ms < 1000) return t("archive.units.ms", { n: Math.round(ms) });
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return t("archive.units.s", { n: seconds });
  if (seconds < 3600) return t("archive.units.min", { m: Math.floor(seconds / 60), s: seconds % 60 });
  return t("archive.units.h", { h: Math.floor(seconds / 3600), m: Math.floor((seconds % 3600) / 60) });
}

/** Who started a run: "Manual · admin", "Scheduled"; a trigger this page does not know is shown as it is. */
export function describeTrigger(run: Pick<ArchiveRun, "trigger" | "requested_by">): string {
  const key = `archive.triggers.${run.trigger}`;
  const trigger = i18n.global.te(key) ? t(key) : run.trigger;
  return run.requested_by && run.requested_by !== run.trigger ? t("archive.by", { trigger, who: run.requested_by }) : trigger;
}

/** The days of a run as a span: "2025-12-13", or "2025-12-10 – 2025-12-13". */
export function daySpan(days: readonly string[]): string {
  if (days.length === 0) return "";
  const sorted = [...days].sort();
  const first = sorted[0]!;
  const last = sorted[sorted.length - 1]!;
  return first === last ? first : `${first} – ${last}`;
}

/** One archived day: its files (readings, alarms, audit, manifest) as one row. */
export interface StoredDay {
  day: string;
  kinds: ArchiveKind[];
  bytes: number;
  modified_at: string | null;
  /** A day can be restored from its readings file. */
  restorable: boolean;
}

const KIND_ORDER: readonly ArchiveKind[] = ["sensor_data", "alarms", "audit", "manifest"];

/** The objects grouped by day, newest day first. */
export function storedDays(objects: readonly ArchiveObject[]): StoredDay[] {
  const days = new Map<string, StoredDay>();
  for (const object of objects) {
    const day = days.get(object.day) ?? { day: object.day, kinds: [], bytes: 0, modified_at: null, restorable: false };
    if (!day.kinds.includes(object.kind)) day.kinds.push(object.kind);
    day.bytes += object.bytes;
    if (object.modified_at && (!day.modified_at || object.modified_at > day.modified_at)) day.modified_at = object.modified_at;
    day.restorable ||= object.kind === "sensor_data";
    days.set(object.day, day);
  }
  for (const day of days.values()) day.kinds.sort((a, b) => KIND_ORDER.indexOf(a) - KIND_ORDER.indexOf(b));
  return [...days.values()].sort((a, b) => (a.day < b.day ? 1 : a.day > b.day ? -1 : 0));
}
