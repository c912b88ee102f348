/** The plant's clock: Asia/Shanghai, UTC+8 all year (no daylight saving). */
export const PLANT_UTC_OFFSET_MS = 8 * 3_600_000;

/** The hour of the plant's day (0–23) of a Unix ms time. */
export function plantHour(at: number): number {
  const dayMs = 86_400_000;
  return Math.floor((((at + PLANT_UTC_OFFSET_MS) % dayMs) + dayMs) % dayMs / 3_600_000);
}
