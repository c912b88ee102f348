import type { HealthReason } from "@mcs/core/analysis";

type Translate = (key: string, values?: Record<string, unknown>) => string;

export function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

/** 2 decimals near zero, fewer for big numbers: enough to compare devices. */
export function short(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(Math.abs(value) >= 10 ? 1 : 2);
}

export function duration(ms: number, t: Translate): string {
  const minutes = Math.round(ms / 60_000);
  return t("analysis.duration", { hours: Math.floor(minutes / 60), minutes: minutes % 60 });
}

const hexBit = (bit: number) => `0x${bit.toString(16).padStart(2, "0")}`;

/** A health reason in the user's language, its numbers formatted. */
export function reasonText(reason: HealthReason, t: Translate, unit: string, time: (at: number) => string): string {
  const key = `analysis.reason.${reason.code}`;
  switch (reason.code) {
    case "no_data":
      return t(key);
    case "incomplete":
      return t(key, { completeness: percent(reason.completeness) });
    case "gap":
      return t(key, { duration: duration(reason.longestMs, t), count: reason.count });
    case "flat_line":
      return t(key, { samples: reason.samples, from: time(reason.from) });
    case "negative_drift":
      return t(key, { share: percent(reason.share) });
    case "noisy":
      return t(key, { noise: `${short(reason.noise)} ${unit}`, limit: `${short(reason.limit)} ${unit}` });
    case "battery_falling":
    case "rssi_falling":
      return t(key, { slope: short(reason.slopePerDay) });
    case "battery_low":
      return t(key, { last: short(reason.last), limit: short(reason.limit) });
    case "weak_signal":
      return t(key, { mean: short(reason.mean) });
    case "sensor_fault":
      return t(key, { count: reason.count });
    case "error_bits":
      return t(key, { bits: reason.bits.map(hexBit).join(", "), count: reason.count });
  }
}

export function errorBitsText(bits: readonly { bit: number; count: number }[]): string {
  return bits.map((bit) => `${hexBit(bit.bit)}×${bit.count}`).join(" ") || "—";
}
