/** What an archive object holds. */
export type ArchiveKind = "sensor_data" | "alarms" | "audit" | "manifest";

const DAY_MS = 86_400_000;

/** `2025-12-13` for the UTC day holding `ms`. */
export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The UTC midnight that starts `day` (`YYYY-MM-DD`). */
export function dayStartMs(day: string): number {
  return Date.parse(`${day}T00:00:00.000Z`);
}

/** The day after `day`. */
export function nextDay(day: string): string {
  return dayOf(dayStartMs(day) + DAY_MS);
}

/** The plan's names: `archive/2025/12/sensor_data_20251213.csv.gz` and the files beside it. */
export function archiveKeys(day: string): Record<ArchiveKind, string> {
  const [year, month] = day.split("-");
  const compact = day.replaceAll("-", "");
  const folder = `archive/${year}/${month}`;
  return {
    sensor_data: `${folder}/sensor_data_${compact}.csv.gz`,
    manifest: `${folder}/sensor_data_${compact}.manifest.json`,
    alarms: `${folder}/alarms_${compact}.csv.gz`,
    audit: `${folder}/audit_${compact}.csv.gz`,
  };
}

const KEY_PATTERN = /^archive\/\d{4}\/\d{2}\/(sensor_data|alarms|audit)_(\d{4})(\d{2})(\d{2})\.(csv\.gz|manifest\.json)$/;

/** The kind and day of an archive key; null for anything else in the bucket. */
export function parseArchiveKey(key: string): { kind: ArchiveKind; day: string } | null {
  const match = KEY_PATTERN.exec(key);
  if (!match) return null;
  const [, name, year, month, date, ending] = match;
  if (ending === "manifest.json" && name !== "sensor_data") return null;
  return { kind: ending === "manifest.json" ? "manifest" : (name as ArchiveKind), day: `${year}-${month}-${date}` };
}
